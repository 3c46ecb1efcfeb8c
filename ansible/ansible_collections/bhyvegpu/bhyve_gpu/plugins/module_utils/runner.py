# -*- coding: utf-8 -*-
# Copyright (c) 2026, bhyve-gpu contributors
# BSD-2-Clause (see the LICENSE of the bhyve-gpu project)

"""Run the bhyve-gpu program with --json and turn what it prints into module results.

The modules translate: every fact, plan, diff and refusal comes from bhyve-gpu itself.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

COMMON_ARGUMENT_SPEC = dict(
    executable=dict(type='path'),
    host=dict(type='str'),
    root=dict(type='path'),
)

# bhyve-gpu exit codes (bhyve-gpu --help).
EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_PENDING = 3
EXIT_PARTIAL = 4


def common_argument_spec(**extra):
    """The options every bhyve_gpu module takes, plus the module's own."""
    spec = dict(COMMON_ARGUMENT_SPEC)
    spec.update(extra)
    return spec


class BhyveGpu(object):
    """One module's use of the bhyve-gpu program: finds it, runs it, parses its JSON, fails cleanly."""

    def __init__(self, module):
        self.module = module
        params = module.params
        executable = params.get('executable')
        if not executable:
            executable = module.get_bin_path('bhyve-gpu', required=False, opt_dirs=['/usr/local/bin'])
        if not executable:
            module.fail_json(
                msg='bhyve-gpu is not on PATH or in /usr/local/bin of this host',
                hint='install it with the role bhyvegpu.bhyve_gpu.bhyve_gpu_host, or set executable',
            )
        self.executable = executable
        self.host = params.get('host')
        self.root = params.get('root')
        # Every argv run, in order: returned to the user as `commands`.
        self.commands = []

    def argv(self, args):
        argv = [self.executable] + [str(a) for a in args] + ['--json', '--color', 'never']
        if self.host:
            argv += ['--host', self.host]
        if self.root:
            argv += ['--root', self.root]
        return argv

    def run(self, args, ok_codes=(EXIT_OK,)):
        """Run `bhyve-gpu ARGS --json`; return (rc, document). Any other exit status fails the module."""
        argv = self.argv(args)
        self.commands.append(argv)
        rc, out, err = self.module.run_command(
            argv, environ_update=dict(NO_COLOR='1', LC_ALL='C'), check_rc=False
        )
        doc = parse_document(out)
        if rc in ok_codes and isinstance(doc, dict) and not isinstance(doc.get('error'), dict):
            return rc, doc
        self.fail(argv, rc, doc, out, err)

    def fail(self, argv, rc, doc, out, err):
        error = doc.get('error') if isinstance(doc, dict) else None
        result = dict(rc=rc, cmd=argv, stderr=err, commands=self.commands)
        if isinstance(error, dict):
            msg = error.get('message') or 'bhyve-gpu failed'
            result['error'] = error
            if error.get('hint'):
                msg = '%s (hint: %s)' % (msg, error['hint'])
        else:
            lines = [line for line in (err or '').splitlines() if line.strip()]
            msg = 'bhyve-gpu exited with status %d%s' % (rc, (': ' + lines[0]) if lines else '')
        if isinstance(doc, dict):
            result['result'] = doc
            if doc.get('journal'):
                result['journal'] = doc['journal']
        else:
            result['stdout'] = out
        self.module.fail_json(msg=msg, **result)


def parse_document(text):
    """The one JSON document bhyve-gpu --json prints on stdout, or None."""
    if not text or not text.strip():
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def plan_steps(plan):
    """The plan's steps without the full file contents (those go to the diff)."""
    steps = []
    for step in plan.get('steps', []):
        steps.append(dict((k, v) for k, v in step.items() if k not in ('before', 'after')))
    return steps


def plan_diff(plan):
    """Ansible's diff: one before/after per file the plan edits, a line for other steps."""
    diffs = []
    for step in plan.get('steps', []):
        kind = step.get('kind')
        if kind == 'file-edit':
            diffs.append(dict(
                before_header=step['path'],
                after_header=step['path'],
                before=step.get('before', ''),
                after=step.get('after', ''),
            ))
        elif kind == 'file-install':
            diffs.append(dict(prepared='install %s over %s (%s)\n' % (step.get('from'), step['path'], step.get('reason', ''))))
        elif kind == 'command':
            diffs.append(dict(prepared='run: %s (%s)\n' % (' '.join(step.get('argv', [])), step.get('reason', ''))))
    return diffs


def plan_result(module, runner, args, with_reboot=True):
    """Show (check mode: --check) or apply (--yes) a bhyve-gpu plan and exit the module with its result."""
    if module.check_mode:
        doc = runner.run(list(args) + ['--check'], ok_codes=(EXIT_OK, EXIT_PENDING))[1]
        changed = bool(doc.get('pending'))
        journal = None
        message = 'changes pending (check mode: nothing written)' if changed else 'already in the desired state'
    else:
        doc = runner.run(list(args) + ['--yes'])[1]
        changed = doc.get('result') == 'applied'
        journal = doc.get('journal')
        message = doc.get('message', '')
    plan = doc.get('plan', {})
    result = dict(
        changed=changed,
        title=plan.get('title', ''),
        steps=plan_steps(plan),
        notes=plan.get('notes', []),
        journal=journal,
        message=message,
        commands=runner.commands,
    )
    if with_reboot:
        pptdevs = plan.get('pptdevs') or dict(before=[], after=[], changed=False)
        result['pptdevs'] = pptdevs
        result['reboot_required'] = bool(changed and plan.get('rebootRequired'))
    if module._diff and changed:
        result['diff'] = plan_diff(plan)
    module.exit_json(**result)
