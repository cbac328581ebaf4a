/* listener_json: the JSON object of one listener in a qtune document, for
 * end-to-end tests that check one listener's members. */
#ifndef QTUNE_TEST_LISTENER_JSON_H
#define QTUNE_TEST_LISTENER_JSON_H

#include <stdint.h>

/* The text from "\"port\":PORT," to the end of that listener's object
 * (malloc'd); fails the test when no listener has that port. */
char *listener_json(const char *doc, uint16_t port);

#endif
