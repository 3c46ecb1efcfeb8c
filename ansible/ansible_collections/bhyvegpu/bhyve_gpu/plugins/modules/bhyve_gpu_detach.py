#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, bhyve-gpu contributors
# BSD-2-Clause (see the LICENSE of the bhyve-gpu project)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: bhyve_gpu_detach
short_description: Release a GPU from pptdevs and from a vm-bhyve guest
version_added: 0.1.0
description:
  - Runs C(bhyve-gpu detach GPU --json) on the target, the inverse of M(bhyvegpu.bhyve_gpu.bhyve_gpu_attach).
    The GPU's functions leave C(pptdevs) and, with I(vm), the guest's C(passthruN) entries (the rest are
    renumbered). A file still exactly as an attach left it gets its original bytes back.
  - Check mode runs C(bhyve-gpu detach --check) (the dry run); diff mode shows each file's before and after.
extends_documentation_fragment:
  - bhyvegpu.bhyve_gpu.common
options:
  gpu:
    description: The GPU, as its bhyve ID (C(1/0/0)), selector (C(pci0:1:0:0)) or vendor:device (C(10de:1bb3)).
    type: str
    required: true
  vm:
    description: vm-bhyve guest to take the GPU from.
    type: str
  now:
    description: Also give the functions back to their host drivers now (devctl), so no reboot is needed.
    type: bool
    default: false
seealso:
  - module: bhyvegpu.bhyve_gpu.bhyve_gpu_attach
author:
  - bhyve-gpu contributors
'''

EXAMPLES = r'''
- name: Take the GPU at 1/0/0 back from xdev and stop reserving it
  bhyvegpu.bhyve_gpu.bhyve_gpu_detach:
    gpu: 1/0/0
    vm: xdev
  register: detached

- name: The GPU stays on ppt(4) until the next boot
  ansible.builtin.reboot:
  when: detached.reboot_required
'''

RETURN = r'''
title:
  description: What the plan does, as bhyve-gpu names it.
  returned: always
  type: str
  sample: detach GPU 1/0/0 (GP104GL [Tesla P4]) from xdev
steps:
  description: The plan's steps (kind, path or argv, reason, unified diff); empty when nothing changes.
  returned: always
  type: list
  elements: dict
notes:
  description: bhyve-gpu's notes on the plan.
  returned: always
  type: list
  elements: str
journal:
  description: Journal entry of the applied change; null when nothing was written.
  returned: always
  type: str
reboot_required:
  description: The reserved devices (C(pptdevs)) changed and a function stays on ppt(4) until the next boot.
  returned: always
  type: bool
pptdevs:
  description: Devices C(pptdevs) reserves at boot before and after the change.
  returned: always
  type: dict
message:
  description: bhyve-gpu's one-line result.
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
    BhyveGpu,
    common_argument_spec,
    plan_result,
)


def main():
    module = AnsibleModule(
        argument_spec=common_argument_spec(
            gpu=dict(type='str', required=True),
            vm=dict(type='str'),
            now=dict(type='bool', default=False),
        ),
        supports_check_mode=True,
    )
    p = module.params
    args = ['detach', p['gpu']]
    if p['vm']:
        args += ['--vm', p['vm']]
    if p['now']:
        args.append('--now')
    plan_result(module, BhyveGpu(module), args)


if __name__ == '__main__':
    main()
