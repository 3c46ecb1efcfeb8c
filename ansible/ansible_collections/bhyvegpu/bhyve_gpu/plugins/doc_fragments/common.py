# -*- coding: utf-8 -*-
# Copyright (c) 2026, bhyve-gpu contributors
# BSD-2-Clause (see the LICENSE of the bhyve-gpu project)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # Options every bhyve_gpu module takes: which program, which host, which file tree.
    DOCUMENTATION = r'''
options:
  executable:
    description:
      - Path of the C(bhyve-gpu) program on the target.
      - Default is C(bhyve-gpu) found on C(PATH), then in C(/usr/local/bin).
    type: path
  host:
    description:
      - The host C(bhyve-gpu) acts on, passed as C(--host).
      - A recorded host snapshot file (JSON, from C(bhyve-gpu snapshot)) or C(ssh://[user@]host[:port]).
      - Default is the target itself.
    type: str
  root:
    description:
      - Take every absolute file path under this directory (C(--root)). Used for tests and image
        preparation; with a snapshot in I(host), files not under it are read from the snapshot and every
        write goes under it.
    type: path
notes:
  - The module runs C(bhyve-gpu ... --json) on the target and reports what it printed; it does not parse
    host files itself.
requirements:
  - bhyve-gpu on the target (the role C(bhyvegpu.bhyve_gpu.bhyve_gpu_host) installs it) and Node.js 20.12 or newer.
'''
