#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, bhyve-gpu contributors
# BSD-2-Clause (see the LICENSE of the bhyve-gpu project)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: bhyve_gpu_facts
short_description: GPUs, passthrough state and host readiness as facts
version_added: 0.1.0
description:
  - Runs C(bhyve-gpu scan --json) on the target and sets C(ansible_facts.bhyve_gpu) from it.
  - The facts hold the host (release, IOMMU, vmm, C(pptdevs), installed bhyve and its quirks), every GPU
    with all its functions and their state (C(ppt-attached), C(reserved-not-attached), C(host-driver),
    C(unclaimed)), stale C(pptdevs) entries and warnings.
extends_documentation_fragment:
  - bhyvegpu.bhyve_gpu.common
options:
  devices:
    description: Also return every PCI device (C(ansible_facts.bhyve_gpu.devices)), not only the GPUs.
    type: bool
    default: false
author:
  - bhyve-gpu contributors
'''

EXAMPLES = r'''
- name: Scan the GPUs
  bhyvegpu.bhyve_gpu.bhyve_gpu_facts:

- name: List every GPU and the state of its functions
  ansible.builtin.debug:
    msg: "{{ item.id }} {{ item.vendorDevice }} {{ item.name }}: {{ item.functions | map(attribute='state') | join(', ') }}"
  loop: "{{ ansible_facts.bhyve_gpu.gpus }}"

- name: Scan a recorded host snapshot instead of the target
  bhyvegpu.bhyve_gpu.bhyve_gpu_facts:
    host: /var/tmp/gpubox.json
'''

RETURN = r'''
ansible_facts:
  description: Facts set on the host.
  returned: always
  type: complex
  contains:
    bhyve_gpu:
      description:
        - C(bhyve-gpu scan --json) as printed (C(schemaVersion), C(host), C(gpus), C(stale), C(warnings)),
          C(devices) only with I(devices=true).
        - C(host.bhyve) has C(state) (C(stock), C(patched), C(overwritten), C(maybe-overwritten), C(unknown))
          and, when bhyve-gpu installed it, C(quirks) and C(installed) (source, patches, userland, journal).
      returned: always
      type: dict
      sample:
        host:
          hostname: xcloud
          release: 15.0-RELEASE-p2
          vmm: {"loaded": true, "loaderConf": true, "kldList": false}
          bhyve: {"state": "stock", "detail": "no bhyve-gpu install manifest: the base system bhyve"}
        gpus:
          - id: 1/0/0
            vendorDevice: "10de:1bb3"
            name: GP104GL [Tesla P4]
            functions: [{"bhyveId": "1/0/0", "state": "ppt-attached", "reserved": true}]
        stale: []
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
)


def main():
    module = AnsibleModule(
        argument_spec=common_argument_spec(devices=dict(type='bool', default=False)),
        supports_check_mode=True,
    )
    runner = BhyveGpu(module)
    doc = runner.run(['scan'])[1]
    if not module.params['devices']:
        doc.pop('devices', None)
    module.exit_json(changed=False, ansible_facts=dict(bhyve_gpu=doc), commands=runner.commands)


if __name__ == '__main__':
    main()
