/* audit_result: what a listener audit found, as plain data: the listeners
 * (and owners), the kernel's queue limits, the limits judged against and
 * the findings. audit_run() fills it (audit.h); the reports read it. */
#ifndef QTUNE_AUDIT_RESULT_H
#define QTUNE_AUDIT_RESULT_H

#include "findings.h"
#include "listener_set.h"
#include "queue_limits.h"

struct audit {
	struct listener_set set;
	struct queue_limits kernel;
	struct findings findings;
	struct finding_port *ports;    /* storage behind limits.ports */
	struct finding_limits limits;
};

#endif
