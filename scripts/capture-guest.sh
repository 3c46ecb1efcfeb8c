#!/usr/bin/env bash
# Record a Linux guest (or any Linux machine with an NVIDIA GPU) into a bhyve-gpu snapshot that
# `bhyve-gpu --host <file> guest check` reads. Format: src/host/snapshot-format.ts (docs/snapshot-format.md).
#
# Usage: sudo scripts/capture-guest.sh [-o guest.json] [-d "description"]
#   Run as root: other users read only the 64-byte config header (no MSI/MSI-X capabilities) and may be
#   refused the kernel log by dmesg (journalctl is tried as well).
#   Needs bash and python3 only. The snapshot holds the kernel log and the host name: read it before
#   publishing it.
set -euo pipefail

output=-
description="guest snapshot recorded by scripts/capture-guest.sh"
while getopts "o:d:h" opt; do
  case "$opt" in
    o) output="$OPTARG" ;;
    d) description="$OPTARG" ;;
    h)
      sed -n '2,9p' "$0"
      exit 0
      ;;
    *)
      echo "usage: $0 [-o FILE] [-d DESCRIPTION]" >&2
      exit 2
      ;;
  esac
done

if ! command -v python3 >/dev/null 2>&1; then
  echo "capture-guest.sh needs python3" >&2
  exit 1
fi

export CAPTURE_OUTPUT="$output" CAPTURE_DESCRIPTION="$description"
exec python3 - <<'PY'
import base64, datetime, json, os, shutil, socket, subprocess, sys

files = {}
missing = []
commands = []
PCI = "/sys/bus/pci/devices"


def read(path, binary=False):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        missing.append(path)
        return
    except OSError as e:  # EIO/EACCES: leave it out (the tool reports "not captured")
        print(f"capture-guest: {path}: {e.strerror}", file=sys.stderr)
        return
    if binary:
        files[path] = {"base64": base64.b64encode(data).decode("ascii")}
    else:
        files[path] = data.decode("utf-8", errors="replace")


def run(argv):
    if shutil.which(argv[0]) is None:
        commands.append({"argv": argv, "exitCode": 127, "stdout": "", "stderr": f"{argv[0]}: command not found\n"})
        return
    try:
        p = subprocess.run(argv, capture_output=True, timeout=120, env={**os.environ, "LC_ALL": "C"})
        code, out, err = p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired as e:
        code, out, err = 124, e.stdout or b"", (e.stderr or b"") + b"\ncapture-guest: timed out after 120 s\n"
    commands.append({
        "argv": argv,
        "exitCode": code,
        "stdout": out.decode("utf-8", errors="replace"),
        "stderr": err.decode("utf-8", errors="replace"),
    })


try:
    devices = sorted(os.listdir(PCI))
except OSError:
    devices = []
if not devices:
    missing.append(PCI)
for name in devices:
    base = f"{PCI}/{name}"
    for leaf in ("vendor", "device", "class", "irq", "resource", "enable"):
        read(f"{base}/{leaf}")
    read(f"{base}/config", binary=True)
    link = f"{base}/driver"
    if os.path.islink(link):
        files[link] = {"link": os.readlink(link)}
    else:
        missing.append(link)

read("/proc/driver/nvidia/version")
read("/etc/os-release")
for argv in (["uname", "-r"], ["nvidia-smi", "-q", "-x"], ["nvidia-smi"], ["dmesg"],
             ["journalctl", "-k", "-b", "--no-pager"]):
    run(argv)

snapshot = {
    "format": "bhyve-gpu-snapshot",
    "version": 1,
    "capturedAt": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    "hostname": socket.gethostname(),
    "description": os.environ.get("CAPTURE_DESCRIPTION", ""),
    "commands": commands,
    "files": files,
    "missing": missing,
}
text = json.dumps(snapshot, indent=2, ensure_ascii=False) + "\n"
target = os.environ.get("CAPTURE_OUTPUT", "-")
if target == "-":
    sys.stdout.write(text)
else:
    tmp = f"{target}.tmp{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, target)
    print(f"capture-guest: wrote {target} ({len(files)} files, {len(commands)} commands)", file=sys.stderr)
PY
