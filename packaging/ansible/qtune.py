# -*- coding: utf-8 -*-
# qtune Ansible module: runs the installed qtune and reports what its JSON
# output says. It decides nothing itself: qtune plans, writes all-or-nothing
# and judges compliance; this file maps that onto Ansible's changed, check
# mode, diff mode and failures. Only ansible-core's module_utils are used.
# No #! line: Ansible runs Python modules with the interpreter it discovers
# (or ansible_python_interpreter), whatever the first line says, and the
# file is installed as data, not as an executable.
# SPDX-License-Identifier: MIT

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: qtune
short_description: Tune and audit the TCP listen queues of a host with qtune
description:
  - Runs C(qtune apply) or C(qtune check) with a tuning profile and reports
    the result from qtune's JSON output (schema 1).
  - C(state=applied) applies the profile through /proc/sys, all-or-nothing;
    C(changed) is qtune's own C("changed"), so a second identical run reports
    no change.
  - C(state=checked) only compares; it never changes anything and never
    reports C(changed). The verdict is in C(compliant); drift does not fail
    the task.
  - Check mode runs C(qtune apply --dry-run) and reports C(changed) when the
    plan would change a key or the persisted file. Diff mode shows each key
    that changes (or would change) with its value before and after.
  - Everything happens in one network namespace, the target's or the one
    named by I(netns).
options:
  profile:
    description: A profile path, or a bare name looked up in /etc/qtune/profiles then /usr/share/qtune/profiles.
    type: str
    required: true
  state:
    description: C(applied) applies the profile; C(checked) only reports compliance.
    type: str
    choices: [applied, checked]
    default: applied
  persist:
    description: Also write the values to a sysctl.d file so the next boot applies them (C(apply --persist)). Only with C(state=applied).
    type: bool
    default: false
  netns:
    description: A network namespace name under /run/netns, or a path such as /proc/PID/ns/net.
    type: str
  all_netns:
    description:
      - With C(state=checked), check every network namespace of the host (C(qtune check --all-netns)) - containers and pods too.
        C(compliant) is true only when every namespace is; C(namespaces) lists each with its label and verdict, C(drift) and
        C(findings) name the namespace (C(netns), C(netns_label)). Not with I(netns), never with C(state=applied).
    type: bool
    default: false
  allow_global:
    description: Permit host-wide keys from a non-initial network namespace (C(apply --allow-global)). Only with C(state=applied).
    type: bool
    default: false
  qtune_path:
    description: The qtune binary to run.
    type: path
    default: /usr/sbin/qtune
notes:
  - Needs root (or CAP_NET_ADMIN over the namespace for net.* keys) for C(state=applied); use C(become).
  - Supports check mode and diff mode.
requirements:
  - qtune on the managed host
author:
  - qtune authors
'''

EXAMPLES = r'''
- name: Apply the web profile and persist it
  qtune:
    profile: web
    persist: true
  become: true

- name: Tune a container's network namespace
  qtune:
    profile: /etc/qtune/profiles/web.yaml
    netns: /proc/{{ container_pid }}/ns/net

- name: Audit only
  qtune:
    profile: web
    state: checked
  register: audit

- name: Fail the play on drift
  ansible.builtin.assert:
    that: audit.compliant
'''

RETURN = r'''
compliant:
  description: Whether the host meets the profile (state=checked), as `qtune check` exits 0.
  returned: state=checked
  type: bool
changes:
  description: The keys that changed (or, in check mode, would change), each with key, before and after.
  returned: state=applied
  type: list
  elements: dict
drift:
  description: The keys whose running value does not meet the profile, each with key, running and wanted.
  returned: state=checked
  type: list
  elements: dict
findings:
  description: Listener findings (kind, address, port, message), e.g. listeners still clamped at the old somaxconn.
  returned: when qtune audited the listeners
  type: list
  elements: dict
messages:
  description: qtune's diagnostics (level, file, line, column, message).
  returned: always
  type: list
  elements: dict
result:
  description: qtune's whole JSON document (docs/json-schema.md), or null when it printed none.
  returned: always
  type: dict
exit_status:
  description: qtune's exit status (0 ok, 1 drift for check, 2 trouble, 3 failed apply whose rollback failed).
    Not called C(rc), because Ansible fails any task whose C(rc) is not 0 and drift is not a failure.
  returned: always
  type: int
rc:
  description: qtune's exit status, only when the task failed.
  returned: failure
  type: int
cmd:
  description: The command that ran.
  returned: always
  type: list
  elements: str
'''

import json
import os

from ansible.module_utils.basic import AnsibleModule

SCHEMA = 1


def build_command(p, command, dry_run):
    cmd = [p['qtune_path'], '--json']
    if p['netns']:
        cmd += ['--netns', p['netns']]
    if p['all_netns']:
        cmd.append('--all-netns')
    cmd.append(command)
    if command == 'apply':
        if dry_run:
            cmd.append('--dry-run')
        if p['persist']:
            cmd.append('--persist')
        if p['allow_global']:
            cmd.append('--allow-global')
    # "--" so that a profile path starting with "-" is not an option.
    cmd += ['--', p['profile']]
    return cmd


def parse(stdout):
    """qtune's JSON document, or None when it printed none (some failures
    print only to stderr)."""
    text = (stdout or '').strip()
    if not text:
        return None
    try:
        doc = json.loads(text)
    except ValueError:
        return None
    return doc if isinstance(doc, dict) else None


def failure_text(doc, stderr):
    """qtune's own words: its error messages, else its stderr."""
    lines = []
    for m in (doc or {}).get('messages', []):
        if m.get('level') in ('error', 'fatal'):
            where = m.get('file') or ''
            if where and m.get('line'):
                where += ':%d' % m['line']
                if m.get('column'):
                    where += ':%d' % m['column']
            lines.append('%s: %s' % (where, m.get('message')) if where else m.get('message'))
    if not lines:
        lines = [l for l in (stderr or '').splitlines() if l.strip()]
    return '; '.join(lines) or 'qtune failed without a message'


def findings_of(doc):
    out = []
    for l in (doc or {}).get('listeners', []):
        for f in l.get('findings', []):
            out.append({'kind': f.get('kind'), 'address': l.get('address'), 'port': l.get('port'),
                        'family': l.get('family'), 'message': f.get('message')})
    return out


def changes_of(doc):
    return [{'key': k['key'], 'before': k['running'], 'after': k['target']}
            for k in (doc or {}).get('keys', []) if k.get('change')]


def persist_changed(doc):
    return bool(((doc or {}).get('persist') or {}).get('changed'))


def make_diff(doc, netns):
    where = 'network namespace %s' % netns if netns else 'running kernel'
    changes = changes_of(doc)
    diff = [{
        'before_header': '%s (before)' % where,
        'after_header': '%s (after)' % where,
        'before': ''.join('%s = %s\n' % (c['key'], c['before']) for c in changes),
        'after': ''.join('%s = %s\n' % (c['key'], c['after']) for c in changes),
    }]
    if persist_changed(doc):
        p = doc['persist']
        diff.append({'prepared': '%s/%s: rewritten with the values above\n' % (p['directory'], p['file'])})
    return diff


def main():
    module = AnsibleModule(
        argument_spec=dict(
            profile=dict(type='str', required=True),
            state=dict(type='str', default='applied', choices=['applied', 'checked']),
            persist=dict(type='bool', default=False),
            netns=dict(type='str'),
            allow_global=dict(type='bool', default=False),
            all_netns=dict(type='bool', default=False),
            qtune_path=dict(type='path', default='/usr/sbin/qtune'),
        ),
        supports_check_mode=True,
    )
    p = module.params
    if not (os.path.isfile(p['qtune_path']) and os.access(p['qtune_path'], os.X_OK)):
        module.fail_json(msg='qtune not found or not executable: %s' % p['qtune_path'],
                         cmd=[], messages=[], result=None)
    if p['state'] == 'checked' and (p['persist'] or p['allow_global']):
        module.warn('persist and allow_global apply to state=applied only; ignored')

    checked = p['state'] == 'checked'
    if p['all_netns'] and (not checked or p['netns']):
        module.fail_json(msg='all_netns needs state=checked and no netns: changes name each namespace',
                         cmd=[], messages=[], result=None)
    cmd = build_command(p, 'check' if checked else 'apply', module.check_mode)
    # LC_ALL=C: qtune's messages are not translated, but libc's strerror is.
    rc, stdout, stderr = module.run_command(cmd, environ_update={'LC_ALL': 'C'})
    doc = parse(stdout)
    messages = (doc or {}).get('messages', [])
    ret = dict(cmd=cmd, exit_status=rc, result=doc, messages=messages, stderr=stderr, changed=False)

    if doc is not None and doc.get('schema') != SCHEMA:
        module.fail_json(msg='qtune printed JSON schema %r; this module reads schema %d'
                         % (doc.get('schema'), SCHEMA), rc=rc, **ret)
    # check: 0 compliant, 1 drift; apply: 0. Anything else is trouble.
    if rc not in ((0, 1) if checked else (0,)):
        what = ('the apply failed and so did its rollback: keys are left in a state nobody asked for; '
                if rc == 3 else '')
        module.fail_json(msg=what + failure_text(doc, stderr), rc=rc, **ret)
    if doc is None:
        module.fail_json(msg='qtune exited %d but printed no JSON document' % rc, rc=rc, **ret)

    for m in messages:
        if m.get('level') == 'warning':
            module.warn('qtune: %s' % m.get('message'))
    ret['findings'] = findings_of(doc)
    if checked and p['all_netns']:
        ret['compliant'] = rc == 0
        ret['namespaces'] = doc.get('summary', [])
        ret['drift'], ret['findings'] = [], []
        for ns in doc.get('namespaces', []):
            where = {'netns': (ns.get('netns') or {}).get('inode'), 'netns_label': (ns.get('netns') or {}).get('label')}
            ret['drift'] += [dict(where, key=k['key'], running=k['running'], wanted=k.get('wanted'))
                             for k in ns.get('keys', []) if k.get('change')]
            ret['findings'] += [dict(where, **f) for f in findings_of(ns)]
        module.exit_json(**ret)
    if checked:
        ret['compliant'] = rc == 0
        ret['drift'] = [{'key': k['key'], 'running': k['running'], 'wanted': k.get('wanted')}
                        for k in doc.get('keys', []) if k.get('change')]
        module.exit_json(**ret)

    ret['changes'] = changes_of(doc)
    if module.check_mode:
        # A dry run changes nothing, so qtune says "changed": false; what
        # Ansible wants to know is whether a real run would change anything.
        ret['changed'] = bool(ret['changes']) or persist_changed(doc)
    else:
        ret['changed'] = bool(doc.get('changed'))
    if module._diff and ret['changed']:
        ret['diff'] = make_diff(doc, p['netns'])
    module.exit_json(**ret)


if __name__ == '__main__':
    main()
