#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, bhyve-gpu contributors
# BSD-2-Clause (see the LICENSE of the bhyve-gpu project)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: bhyve_gpu_attach
short_description: Reserve a GPU for passthrough and give it to a vm-bhyve guest
version_added: 0.1.0
description:
  - Runs C(bhyve-gpu attach GPU --json) on the target. bhyve-gpu reserves every function of the GPU in
    C(pptdevs) in C(/boot/loader.conf) (with C(vmm_load="YES")) and, with I(vm), gives them all to the
    vm-bhyve guest (C(passthruN), C(wired_memory), C(loader="uefi")).
  - The change is journaled with backups on the host; undo it with C(bhyve-gpu rollback ID) (ID is the
    returned I(journal)) or with M(bhyvegpu.bhyve_gpu.bhyve_gpu_detach).
  - bhyve-gpu refuses while a C(pptdevs) entry is stale or when a function carries the host's network route,
    boot disk or console; the module then fails with bhyve-gpu's reason and hint.
  - Check mode runs C(bhyve-gpu attach --check) (the dry run); diff mode shows each file's before and after.
extends_documentation_fragment:
  - bhyvegpu.bhyve_gpu.common
options:
  gpu:
    description:
      - The GPU, as its bhyve ID (C(1/0/0)), selector (C(pci0:1:0:0)) or vendor:device (C(10de:1bb3)).
      - vendor:device names the same GPU model wherever it sits on each host; bhyve-gpu fails when it
        matches more than one GPU.
    type: str
    required: true
  vm:
    description: vm-bhyve guest to give the GPU to. Without it, only C(pptdevs) is set.
    type: str
  rom:
    description: Option ROM file on the host for the first function (C(passthruN_options="rom=FILE")).
    type: path
  remove_stale:
    description: Remove stale C(pptdevs) entries in the same change instead of refusing.
    type: bool
    default: false
  now:
    description: Also bind the functions to ppt(4) now with devctl, so no reboot is needed.
    type: bool
    default: false
  force:
    description: Proceed despite stale entries or lock-out risks (only with another way into the host).
    type: bool
    default: false
seealso:
  - module: bhyvegpu.bhyve_gpu.bhyve_gpu_detach
  - module: bhyvegpu.bhyve_gpu.bhyve_gpu_facts
author:
  - bhyve-gpu contributors
'''

EXAMPLES = r'''
- name: Give the Tesla P4 (wherever it sits) to the guest xdev
  bhyvegpu.bhyve_gpu.bhyve_gpu_attach:
    gpu: "10de:1bb3"
    vm: xdev
  register: attached

- name: Reboot when pptdevs changed
  ansible.builtin.reboot:
  when: attached.reboot_required

- name: Replace a stale pptdevs entry in the same change, with a dumped VBIOS
  bhyvegpu.bhyve_gpu.bhyve_gpu_attach:
    gpu: 2/0/0
    vm: cuda
    rom: /vms/roms/rtx2080ti.rom
    remove_stale: true
'''

RETURN = r'''
title:
  description: What the plan does, as bhyve-gpu names it.
  returned: always
  type: str
  sample: attach GPU 1/0/0 (GP104GL [Tesla P4]) to xdev
steps:
  description: The plan's steps (kind, path or argv, reason, unified diff); empty when nothing changes.
  returned: always
  type: list
  elements: dict
notes:
  description: bhyve-gpu's notes on the plan (reboot, forced refusals, vm-bhyve requirements).
  returned: always
  type: list
  elements: str
journal:
  description: Journal entry of the applied change (undo with C(bhyve-gpu rollback ID)); null when nothing was written.
  returned: always
  type: str
  sample: 20261126T174012.345Z-a1b2c3
reboot_required:
  description: The reserved devices (C(pptdevs)) changed and a function only reaches ppt(4) at the next boot.
  returned: always
  type: bool
pptdevs:
  description: Devices C(pptdevs) reserves at boot before and after the change.
  returned: always
  type: dict
  sample: {"before": ["3/0/0"], "after": ["2/0/0", "2/0/1"], "changed": true}
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
            rom=dict(type='path'),
            remove_stale=dict(type='bool', default=False),
            now=dict(type='bool', default=False),
            force=dict(type='bool', default=False),
        ),
        supports_check_mode=True,
    )
    p = module.params
    args = ['attach', p['gpu']]
    if p['vm']:
        args += ['--vm', p['vm']]
    if p['rom']:
        args += ['--rom', p['rom']]
    if p['remove_stale']:
        args.append('--remove-stale')
    if p['now']:
        args.append('--now')
    if p['force']:
        args.append('--force')
    plan_result(module, BhyveGpu(module), args)


if __name__ == '__main__':
    main()
