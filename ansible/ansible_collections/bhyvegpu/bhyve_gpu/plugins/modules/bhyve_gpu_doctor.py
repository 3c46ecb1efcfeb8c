#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, bhyve-gpu contributors
# BSD-2-Clause (see the LICENSE of the bhyve-gpu project)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: bhyve_gpu_doctor
short_description: The GPU passthrough checklist (PASS/WARN/FAIL/UNKNOWN) of a host
version_added: 0.1.0
description:
  - Runs C(bhyve-gpu doctor --json) on the target. It checks CPU virtualisation, IOMMU, vmm loaded from
    loader.conf, stale C(pptdevs), the installed bhyve, each GPU (reserved and on ppt, interrupts and the
    NVIDIA INTPIN quirk, BARs against bhyve's MMIO windows) and, with I(vm), the vm-bhyve guest.
  - The module fails the host when a check is FAIL, unless I(fail_on_fail=false). Each check carries the
    runnable commands that fix it when bhyve-gpu knows them.
  - Never changes anything.
extends_documentation_fragment:
  - bhyvegpu.bhyve_gpu.common
options:
  vm:
    description: Also check this vm-bhyve guest.
    type: str
  guest_log:
    description: A guest kernel log (file on the host) to run through bhyve-gpu diagnose.
    type: path
  fail_on_fail:
    description: Fail the task when at least one check is FAIL.
    type: bool
    default: true
author:
  - bhyve-gpu contributors
'''

EXAMPLES = r'''
- name: Check the host and the guest xdev; fail on FAIL
  bhyvegpu.bhyve_gpu.bhyve_gpu_doctor:
    vm: xdev

- name: Keep going and report instead
  bhyvegpu.bhyve_gpu.bhyve_gpu_doctor:
    fail_on_fail: false
  register: doctor

- name: Show what fails and the commands that fix it
  ansible.builtin.debug:
    msg: "{{ item.title }}: {{ item.commands | default([]) | map('join', ' ') | join(' && ') }}"
  loop: "{{ doctor.failed_checks }}"
'''

RETURN = r'''
checks:
  description: Every check in order, as bhyve-gpu prints it (C(id), C(title), C(status), C(evidence), C(fix),
    C(commands) as argv lists, C(noCommand)).
  returned: always
  type: list
  elements: dict
summary:
  description: Counts of C(pass), C(warn), C(fail), C(unknown).
  returned: always
  type: dict
  sample: {"pass": 10, "warn": 1, "fail": 1, "unknown": 0}
status:
  description: The worst status (C(FAIL), C(WARN), C(UNKNOWN) or C(PASS)).
  returned: always
  type: str
failed_checks:
  description: The checks whose status is FAIL.
  returned: always
  type: list
  elements: dict
warned_checks:
  description: The checks whose status is WARN.
  returned: always
  type: list
  elements: dict
host:
  description: Host name bhyve-gpu reports.
  returned: always
  type: str
release:
  description: FreeBSD release of the host.
  returned: always
  type: str
commands:
  description: The bhyve-gpu command lines the module ran (argv lists).
  returned: always
  type: list
  elements: list
'''

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.bhyvegpu.bhyve_gpu.plugins.module_utils.runner import (
    EXIT_FAILURE,
    EXIT_OK,
    BhyveGpu,
    common_argument_spec,
)


def main():
    module = AnsibleModule(
        argument_spec=common_argument_spec(
            vm=dict(type='str'),
            guest_log=dict(type='path'),
            fail_on_fail=dict(type='bool', default=True),
        ),
        supports_check_mode=True,
    )
    p = module.params
    args = ['doctor']
    if p['vm']:
        args += ['--vm', p['vm']]
    if p['guest_log']:
        args += ['--guest-log', p['guest_log']]
    runner = BhyveGpu(module)
    # Exit status 1 with a checklist = at least one FAIL; without one it is an error (handled by run).
    doc = runner.run(args, ok_codes=(EXIT_OK, EXIT_FAILURE))[1]
    checks = doc.get('checks', [])
    summary = doc.get('summary', {})
    failed = [c for c in checks if c.get('status') == 'FAIL']
    warned = [c for c in checks if c.get('status') == 'WARN']
    status = 'PASS'
    for worst in ('FAIL', 'WARN', 'UNKNOWN'):
        if any(c.get('status') == worst for c in checks):
            status = worst
            break
    result = dict(
        changed=False,
        checks=checks,
        summary=summary,
        status=status,
        failed_checks=failed,
        warned_checks=warned,
        host=doc.get('host'),
        release=doc.get('release'),
        commands=runner.commands,
    )
    if failed and p['fail_on_fail']:
        module.fail_json(
            msg='bhyve-gpu doctor: %d check(s) FAIL: %s' % (len(failed), '; '.join(c.get('title', c.get('id', '')) for c in failed)),
            **result
        )
    module.exit_json(**result)


if __name__ == '__main__':
    main()
