<#
  bhyve-gpu Windows guest check (format bhyve-gpu-windows-check, version 1).

  Run inside the Windows guest that has the GPU, in Windows PowerShell 5.1 or PowerShell 7, as an
  administrator (nvidia-smi and some device properties need it):

    powershell -NoProfile -ExecutionPolicy Bypass -File .\check.ps1 -OutFile .\bhyve-gpu-check.json

  It only reads: PnP devices with their Device Manager problem codes (Win32_PnPEntity), display adapters
  and their driver versions (Win32_VideoController), whether Windows sees a hypervisor
  (Win32_ComputerSystem.HypervisorPresent), and `nvidia-smi -q -x` when nvidia-smi is installed.
  Copy the JSON file to the host and read it there:

    bhyve-gpu guest check --from bhyve-gpu-check.json --vm NAME
    bhyve-gpu diagnose bhyve-gpu-check.json

  Without -OutFile the JSON goes to stdout; `> file` in Windows PowerShell 5.1 writes UTF-16 LE with a
  byte order mark, which bhyve-gpu reads as well.
#>
param(
  [string]$OutFile
)

$ErrorActionPreference = 'Continue'
$notes = @()

function Get-Str($value) {
  if ($null -eq $value) { return $null }
  return [string]$value
}

$os = $null
try {
  $o = Get-CimInstance -ClassName Win32_OperatingSystem -ErrorAction Stop
  $os = [ordered]@{
    Caption     = Get-Str $o.Caption
    Version     = Get-Str $o.Version
    BuildNumber = Get-Str $o.BuildNumber
  }
} catch { $notes += "Win32_OperatingSystem: $($_.Exception.Message)" }

$cs = $null
try {
  $c = Get-CimInstance -ClassName Win32_ComputerSystem -ErrorAction Stop
  $cs = [ordered]@{
    Manufacturer      = Get-Str $c.Manufacturer
    Model             = Get-Str $c.Model
    HypervisorPresent = $c.HypervisorPresent
  }
} catch { $notes += "Win32_ComputerSystem: $($_.Exception.Message)" }

# Every NVIDIA function (VEN_10DE) and every device that has a problem code.
$devices = @()
try {
  $all = Get-CimInstance -ClassName Win32_PnPEntity -ErrorAction Stop
  foreach ($d in $all) {
    $id = Get-Str $d.PNPDeviceID
    $code = [int]$d.ConfigManagerErrorCode
    if ($null -eq $id) { continue }
    if (($id -notlike '*VEN_10DE*') -and ($code -eq 0)) { continue }
    $devices += [ordered]@{
      InstanceId             = $id
      Name                   = Get-Str $d.Name
      Class                  = Get-Str $d.PNPClass
      Manufacturer           = Get-Str $d.Manufacturer
      Status                 = Get-Str $d.Status
      ConfigManagerErrorCode = $code
      Present                = $d.Present
      Service                = Get-Str $d.Service
    }
  }
} catch { $notes += "Win32_PnPEntity: $($_.Exception.Message)" }

$adapters = @()
try {
  foreach ($v in Get-CimInstance -ClassName Win32_VideoController -ErrorAction Stop) {
    $date = $null
    if ($null -ne $v.DriverDate) { $date = ([datetime]$v.DriverDate).ToString('yyyy-MM-dd') }
    $adapters += [ordered]@{
      Name                   = Get-Str $v.Name
      PNPDeviceID            = Get-Str $v.PNPDeviceID
      DriverVersion          = Get-Str $v.DriverVersion
      DriverDate             = $date
      ConfigManagerErrorCode = [int]$v.ConfigManagerErrorCode
      Status                 = Get-Str $v.Status
    }
  }
} catch { $notes += "Win32_VideoController: $($_.Exception.Message)" }

# nvidia-smi: System32 for DCH drivers, NVSMI for older standard drivers.
$smi = $null
$smiPath = $null
foreach ($p in @("$env:SystemRoot\System32\nvidia-smi.exe", "$env:ProgramFiles\NVIDIA Corporation\NVSMI\nvidia-smi.exe")) {
  if (Test-Path -LiteralPath $p) { $smiPath = $p; break }
}
if ($null -ne $smiPath) {
  try {
    $out = & $smiPath -q -x 2>&1 | ForEach-Object { [string]$_ }
    $smi = [ordered]@{
      Path     = $smiPath
      ExitCode = $LASTEXITCODE
      Output   = ($out -join "`n")
    }
  } catch { $notes += "nvidia-smi: $($_.Exception.Message)" }
}

$report = [ordered]@{
  format            = 'bhyve-gpu-windows-check'
  version           = 1
  collectedAt       = (Get-Date).ToUniversalTime().ToString('yyyy-MM-ddTHH:mm:ssZ')
  psVersion         = $PSVersionTable.PSVersion.ToString()
  computerName      = $env:COMPUTERNAME
  os                = $os
  computerSystem    = $cs
  devices           = $devices
  videoControllers  = $adapters
  nvidiaSmi         = $smi
  notes             = $notes
}

$json = ConvertTo-Json -InputObject $report -Depth 6
if ($OutFile) {
  # Relative to the current location, as other cmdlets read it; UTF-8 without a byte order mark.
  $full = $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($OutFile)
  [System.IO.File]::WriteAllText($full, $json, (New-Object System.Text.UTF8Encoding($false)))
  Write-Host "wrote ${full}; copy it to the host and run: bhyve-gpu guest check --from FILE"
} else {
  $json
}
