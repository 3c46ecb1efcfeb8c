<#
  Installs an NVIDIA driver package in this Windows guest, silently, after checking that it is NVIDIA's,
  that its branch supports the GPU, and that the GPU is there. Windows PowerShell 5.1 or PowerShell 7,
  administrator.
#>
param(
  [Parameter(Mandatory = $true)][string]$Installer
)

$ErrorActionPreference = 'Stop'
$DeviceId = '__DEVICE_ID__'
$Architecture = '__ARCH__'
$MinBranch = __MIN_BRANCH__
$MaxBranch = __MAX_BRANCH__

$principal = New-Object Security.Principal.WindowsPrincipal([Security.Principal.WindowsIdentity]::GetCurrent())
if (-not $principal.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)) {
  throw 'run this script in an administrator PowerShell'
}

$gpu = Get-CimInstance -ClassName Win32_PnPEntity | Where-Object { $_.PNPDeviceID -like "PCI\VEN_10DE&DEV_$DeviceId*" } | Select-Object -First 1
if ($null -eq $gpu) {
  throw "no PCI\VEN_10DE&DEV_$DeviceId device in this guest: pass the GPU on the host first (bhyve-gpu attach)"
}
Write-Host "GPU: $($gpu.Name) [$($gpu.PNPDeviceID)], problem code $($gpu.ConfigManagerErrorCode)"

$path = $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($Installer)
if (-not (Test-Path -LiteralPath $path)) { throw "no such file: $path" }
$sig = Get-AuthenticodeSignature -LiteralPath $path
if ($sig.Status -ne 'Valid' -or $sig.SignerCertificate.Subject -notmatch 'NVIDIA') {
  throw "$path is not signed by NVIDIA (signature: $($sig.Status))"
}

# NVIDIA names its packages after the version: 560.94-desktop-win10-win11-64bit-international-dch-whql.exe
$name = [System.IO.Path]::GetFileName($path)
if ($name -match '^([0-9]{3})\.[0-9]{2}') {
  $branch = [int]$Matches[1]
  if ($MinBranch -gt 0 -and $branch -lt $MinBranch) {
    throw "driver $name is branch R$branch; $Architecture needs R$MinBranch or newer"
  }
  if ($MaxBranch -gt 0 -and $branch -gt $MaxBranch) {
    throw "driver $name is branch R$branch; R$MaxBranch is the last branch that supports $Architecture"
  }
  Write-Host "driver branch R$branch fits $Architecture"
} else {
  Write-Warning "cannot read the driver branch from the file name $name; make sure it supports $Architecture"
}

# -s: silent, -noreboot: leave the restart to the user, -clean: drop settings of an earlier driver.
$p = Start-Process -FilePath $path -ArgumentList '-s', '-noreboot', '-clean' -Wait -PassThru
if ($p.ExitCode -ne 0) { throw "the NVIDIA installer exited with status $($p.ExitCode)" }

$after = Get-CimInstance -ClassName Win32_PnPEntity | Where-Object { $_.PNPDeviceID -eq $gpu.PNPDeviceID }
Write-Host "installed; GPU problem code now $($after.ConfigManagerErrorCode) (0 = working). Restart the guest, then run the check script."
