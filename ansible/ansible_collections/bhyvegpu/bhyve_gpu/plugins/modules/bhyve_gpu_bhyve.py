#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, bhyve-gpu contributors
# BSD-2-Clause (see the LICENSE of the bhyve-gpu project)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: bhyve_gpu_bhyve
short_description: A bhyve with GPU quirks for the host's release, fetched, patched, built and installed
version_added: 0.1.0
description:
  - One idempotent task for C(bhyve-gpu source), C(bhyve-gpu patch), C(bhyve-gpu build) and
    C(bhyve-gpu install --yes), each run with C(--json) on the target.
  - Nothing runs when the installed bhyve is the one bhyve-gpu installed (its files unchanged since,
    C(scan) state C(patched)), built from the branch C(bhyve-gpu source) picks for this host (the release,
    I(flavor), I(branch)), from the same repository, with the same I(quirks) in the same order.
  - Check mode changes nothing and reports why a build is needed and the commands that would run; diff mode
    shows the installed bhyve (state, branch, quirks) before and after.
  - The install is journaled with backups; undo it with C(bhyve-gpu rollback ID) (ID is the returned I(journal)).
extends_documentation_fragment:
  - bhyvegpu.bhyve_gpu.common
options:
  quirks:
    description:
      - Quirks to build in, in order, from C(intpin), C(nvidia-mirror), C(hide-hypervisor), C(mmio64=SIZE).
      - Passed to C(bhyve-gpu patch --quirk) (comma-separated) unless it is the default C([intpin]), which
        C(bhyve-gpu patch) applies on its own.
    type: list
    elements: str
    default: [intpin]
  src:
    description: Source checkout directory on the host (never C(/usr/src)).
    type: path
    default: /usr/local/bhyve-gpu/src
  flavor:
    description: Which tree C(bhyve-gpu source) fetches.
    type: str
    choices: [upstream, stable, nvidia-wip]
    default: upstream
  repo:
    description: git repository to fetch from (default chosen by bhyve-gpu from I(flavor)).
    type: str
  branch:
    description: Branch or tag to fetch (default chosen by bhyve-gpu from the release and I(flavor)).
    type: str
  release:
    description: Release to fetch for, C(X.Y) (default the host's).
    type: str
  jobs:
    description: Parallel make jobs (default C(sysctl -n hw.ncpu)).
    type: int
  force:
    description: Fetch, patch, build and install even when the installed bhyve already matches.
    type: bool
    default: false
seealso:
  - module: bhyvegpu.bhyve_gpu.bhyve_gpu_facts
author:
  - bhyve-gpu contributors
'''

EXAMPLES = r'''
- name: bhyve with the NVIDIA INTPIN quirk for this host's release
  bhyvegpu.bhyve_gpu.bhyve_gpu_bhyve:
  register: bhyve

- name: Restart the guests to run the new bhyve
  ansible.builtin.command: vm restart xdev
  when: bhyve.changed

- name: Beckhoff's nvidia-wip tree with a larger 64-bit MMIO window
  bhyvegpu.bhyve_gpu.bhyve_gpu_bhyve:
    flavor: nvidia-wip
    quirks: [intpin, nvidia-mirror, mmio64=256G]
'''

RETURN = r'''
up_to_date:
  description: The installed bhyve already matched; nothing ran.
  returned: always
  type: bool
reasons:
  description: Why a build was (or would be) needed.
  returned: always
  type: list
  elements: str
  sample: ["installed bhyve is stock", "quirks are [] (want intpin)"]
wanted:
  description: The repository and branch C(bhyve-gpu source) picks, and the quirks asked for.
  returned: always
  type: dict
  sample: {"repo": "https://git.FreeBSD.org/src.git", "branch": "releng/15.0", "quirks": ["intpin"]}
installed:
  description: The installed bhyve before the task, from C(bhyve-gpu scan) (state, quirks, source).
  returned: always
  type: dict
planned:
  description: In check mode, the bhyve-gpu command lines that would run (argv lists).
  returned: when check mode found work to do
  type: list
  elements: list
source:
  description: C(bhyve-gpu source --json) output.
  returned: when it ran
  type: dict
patch:
  description: C(bhyve-gpu patch --json) output (result, files, hunks, syntax check).
  returned: when it ran
  type: dict
build:
  description: C(bhyve-gpu build --json) output (steps, installs, log file).
  returned: when it ran
  type: dict
install:
  description: C(bhyve-gpu install --yes --json) output (plan, result, journal).
  returned: when it ran
  type: dict
journal:
  description: Journal entry of the install; null when nothing was installed.
  returned: always
  type: str
reboot_required:
  description: The install replaced a file under C(/boot) (vmm.ko); the simplest way to load it is a reboot.
  returned: always
  type: bool
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
    plan_steps,
)

DEFAULT_QUIRKS = ['intpin']


def source_args(p):
    args = ['source', '--src', p['src'], '--flavor', p['flavor']]
    for name in ('repo', 'branch', 'release'):
        if p[name]:
            args += ['--' + name, p[name]]
    return args


def patch_args(p):
    args = ['patch', '--src', p['src']]
    if p['quirks'] != DEFAULT_QUIRKS:
        args += ['--quirk', ','.join(p['quirks'])]
    return args


def build_args(p):
    args = ['build', '--src', p['src']]
    if p['jobs']:
        args += ['--jobs', str(p['jobs'])]
    return args


def describe(state, branch, quirks):
    return 'state: %s\nbranch: %s\nquirks: %s\n' % (state, branch or '-', ','.join(quirks) if quirks else '-')


def main():
    module = AnsibleModule(
        argument_spec=common_argument_spec(
            quirks=dict(type='list', elements='str', default=list(DEFAULT_QUIRKS)),
            src=dict(type='path', default='/usr/local/bhyve-gpu/src'),
            flavor=dict(type='str', default='upstream', choices=['upstream', 'stable', 'nvidia-wip']),
            repo=dict(type='str'),
            branch=dict(type='str'),
            release=dict(type='str'),
            jobs=dict(type='int'),
            force=dict(type='bool', default=False),
        ),
        supports_check_mode=True,
    )
    p = module.params
    if not p['quirks']:
        module.fail_json(msg='quirks is empty: name at least one (intpin is the default)')
    runner = BhyveGpu(module)

    bhyve = runner.run(['scan'])[1].get('host', {}).get('bhyve', {})
    installed_from = (bhyve.get('installed') or {}).get('source') or {}
    installed = dict(
        state=bhyve.get('state'),
        detail=bhyve.get('detail'),
        quirks=bhyve.get('quirks', []),
        repo=installed_from.get('repo'),
        branch=installed_from.get('branch'),
        commit=installed_from.get('commit'),
    )
    # The branch and repository bhyve-gpu would fetch for this host: asked, not guessed.
    plan = runner.run(source_args(p) + ['--dry-run'])[1]
    wanted = dict(repo=plan.get('repo'), branch=plan.get('branch'), quirks=p['quirks'])

    reasons = []
    if installed['state'] != 'patched':
        reasons.append('installed bhyve is %s: %s' % (installed['state'], installed['detail']))
    if installed['quirks'] != wanted['quirks']:
        reasons.append('quirks are [%s] (want %s)' % (','.join(installed['quirks']), ','.join(wanted['quirks'])))
    if installed['branch'] != wanted['branch'] or installed['repo'] != wanted['repo']:
        reasons.append('built from %s %s (want %s %s)' % (
            installed['repo'] or '-', installed['branch'] or '-', wanted['repo'], wanted['branch']))
    if p['force']:
        reasons.append('force')

    result = dict(
        changed=False,
        up_to_date=not reasons,
        reasons=reasons,
        wanted=wanted,
        installed=installed,
        journal=None,
        reboot_required=False,
        commands=runner.commands,
    )
    if not reasons:
        module.exit_json(msg='installed bhyve matches %s with quirks %s' % (wanted['branch'], ','.join(wanted['quirks'])), **result)

    if module._diff:
        result['diff'] = dict(
            before_header='installed bhyve',
            after_header='installed bhyve',
            before=describe(installed['state'], installed['branch'], installed['quirks']),
            after=describe('patched', wanted['branch'], wanted['quirks']),
        )
    if module.check_mode:
        result['changed'] = True
        result['planned'] = [runner.argv(a) for a in (
            source_args(p), patch_args(p), build_args(p), ['install', '--src', p['src'], '--yes'])]
        module.exit_json(msg='would fetch, patch, build and install bhyve (check mode: nothing ran)', **result)

    source = runner.run(source_args(p) + (['--update'] if p['force'] else []))[1]
    patch = runner.run(patch_args(p))[1]
    build = runner.run(build_args(p))[1]
    install = runner.run(['install', '--src', p['src'], '--yes'])[1]
    steps = plan_steps(install.get('plan', {}))
    result.update(
        source=source,
        patch=patch,
        build=build,
        install=dict(install, plan=dict(install.get('plan', {}), steps=steps)),
        journal=install.get('journal'),
        reboot_required=any(s.get('path', '').startswith('/boot/') for s in steps) and install.get('result') == 'applied',
    )
    result['changed'] = (
        source.get('status') in ('fetched', 'updated')
        or patch.get('result') == 'applied'
        or bool(build.get('steps'))
        or install.get('result') == 'applied'
    )
    module.exit_json(msg=install.get('message', ''), **result)


if __name__ == '__main__':
    main()
