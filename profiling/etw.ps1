<#
.SYNOPSIS
etw.ps1: profile a program on Windows through ETW (WPR and xperf) into perfkit
metrics, with the same options as the Linux wrappers in PowerShell's style.

.DESCRIPTION
-Profile cpu   wpr -start CPU -filemode, the program runs (or -Pid is watched),
               wpr -stop cpu.etl; xperf -i cpu.etl -symbols -a dumper
               -stacktimeshifting writes cpu-dump.txt; metric cpu.samples (the
               CPU profile's 1 kHz samples of the target, i.e. its CPU time),
               stacks.folded, and flamegraph.svg when `perfkit profile
               flamegraph` exists.
-Profile heap  Heap tracing must be on when the process starts: for a command,
               wpr -heaptracingconfig NAME.exe enable (Image File Execution
               Options, for every process of that name started meanwhile; set
               back to disable at the end), wpr -start Heap -filemode, the
               program, wpr -stop heap.etl. For -Pid (already running, so WPR's
               way cannot reach it): xperf -start HeapSession -heap -Pids PID.
               Then xperf -i heap.etl -a heap -totals -pid PID writes
               heap-totals.txt; metrics heap.allocations and
               heap.outstanding_bytes (allocated while tracing, not freed by its
               end). No heap.peak_bytes: the totals do not give the peak.

Needs an elevated PowerShell (Run as administrator: WPR and xperf start
kernel ETW sessions), wpr.exe (in Windows 10 and later) and xperf.exe (the
Windows Performance Toolkit of the Windows ADK), and a Python 3.11+ with
numpy, jsonschema and psutil ($env:PERFKIT_PYTHON, else python on PATH).
Symbols: xperf reads $env:_NT_SYMBOL_PATH; set it to the program's PDB
folder (and srv*C:\symbols*https://msdl.microsoft.com/download/symbols for
Windows' own) before running.

Stops at the program's end, after -Seconds, or on Ctrl+C (read from the
console while recording; the recording is then saved and summarised). A
command it started and that still runs then is stopped.

Exit 0: profiled; 1: the profile failed; 2: bad arguments, not elevated, or a
missing tool, each with one line on stderr.

.PARAMETER Output
Where its files go (default .\profile-etw).
.PARAMETER Pid
Watch this running process instead of starting a command.
.PARAMETER Seconds
Stop after this many seconds.
.PARAMETER Prefix
Metric names begin PREFIX.
.PARAMETER Profile
cpu (default) or heap.
.PARAMETER Command
The program and its arguments, after the options (-- may precede them).

.EXAMPLE
.\profiling\etw.ps1 -Output out -Seconds 10 -- .\build\bin\loadgen.exe run --count 100
.EXAMPLE
.\profiling\etw.ps1 -Profile heap -Pid 4242 -Seconds 30 -Prefix daemon
#>
[CmdletBinding(PositionalBinding = $false)]
param(
    [string]$Output = 'profile-etw',
    [Alias('Pid')]
    [int]$ProcessId = 0,
    [double]$Seconds = 0,
    [string]$Prefix = '',
    [string]$Profile = 'cpu',
    [switch]$Help,
    [Parameter(ValueFromRemainingArguments = $true)]
    [string[]]$Command = @()
)

$Me = 'etw.ps1'

function Exit-Usage([string]$Message) {
    # Bad arguments, not elevated, a missing tool: one line, exit 2.
    [Console]::Error.WriteLine("${Me}: $Message")
    exit 2
}

function Exit-Failed([string]$Message) {
    # The profile itself failed: one line, exit 1.
    [Console]::Error.WriteLine("${Me}: $Message")
    exit 1
}

function Say([string]$Message) {
    [Console]::Error.WriteLine("${Me}: $Message")
}

if ($Help) {
    Get-Help -Full $PSCommandPath
    exit 0
}

# -- arguments ----------------------------------------------------------------------------
if ($Command.Count -gt 0 -and $Command[0] -eq '--') {
    $Command = @($Command | Select-Object -Skip 1)
}
if ($Profile -notin @('cpu', 'heap')) {
    Exit-Usage "-Profile: '$Profile' is not cpu or heap"
}
if ($ProcessId -ne 0 -and $Command.Count -gt 0) {
    Exit-Usage 'give -Pid PID or a command, not both'
}
if ($ProcessId -eq 0 -and $Command.Count -eq 0) {
    Exit-Usage 'nothing to profile: give a command or -Pid PID (-Help says more)'
}
if ($Seconds -lt 0) {
    Exit-Usage "-Seconds: '$Seconds' is not a positive number of seconds"
}
if ($Prefix -ne '' -and $Prefix -notmatch '^[A-Za-z0-9_.:/+-]+$') {
    Exit-Usage "-Prefix: '$Prefix': letters, digits and _ . : / + - only"
}
$target = $null
if ($ProcessId -ne 0) {
    $target = Get-Process -Id $ProcessId -ErrorAction SilentlyContinue
    if ($null -eq $target) {
        Exit-Usage "-Pid: no process $ProcessId"
    }
}

# -- what it needs ------------------------------------------------------------------------
$principal = New-Object Security.Principal.WindowsPrincipal(
    [Security.Principal.WindowsIdentity]::GetCurrent())
if (-not $principal.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)) {
    Exit-Usage 'needs an elevated PowerShell (Run as administrator): WPR and xperf start kernel ETW sessions'
}
if ($null -eq (Get-Command wpr.exe -ErrorAction SilentlyContinue)) {
    Exit-Usage 'wpr.exe is not installed: it is in Windows 10 and later, and in the Windows Performance Toolkit (Windows ADK)'
}
if ($null -eq (Get-Command xperf.exe -ErrorAction SilentlyContinue)) {
    Exit-Usage 'xperf.exe is not installed: install the Windows Performance Toolkit (Windows ADK) and put its folder on PATH'
}
$Repo = Split-Path -Parent (Split-Path -Parent $PSCommandPath)
$Py = $env:PERFKIT_PYTHON
if (-not $Py) {
    $found = Get-Command -Name @('python.exe', 'python3.exe') -ErrorAction SilentlyContinue | Select-Object -First 1
    if ($null -eq $found) {
        Exit-Usage 'no Python: install Python 3.11+ (and pip install numpy jsonschema psutil), or set PERFKIT_PYTHON'
    }
    $Py = $found.Source
}
& $Py -c 'import numpy, jsonschema, psutil' 2>$null | Out-Null
if ($LASTEXITCODE -ne 0) {
    Exit-Usage "$Py cannot import numpy, jsonschema and psutil: $Py -m pip install numpy jsonschema psutil (or set PERFKIT_PYTHON)"
}

New-Item -ItemType Directory -Force -Path $Output | Out-Null
$Out = (Resolve-Path $Output).Path

# -- helpers ----------------------------------------------------------------------------------

function ConvertTo-Argument([string]$Arg) {
    # One argument quoted as CommandLineToArgvW reads it back: backslashes
    # double only before a quote or the closing quote.
    if ($Arg -ne '' -and $Arg -notmatch '[\s"]') {
        return $Arg
    }
    $quoted = '"'
    $slashes = 0
    foreach ($c in $Arg.ToCharArray()) {
        if ($c -eq '\') {
            $slashes++
            continue
        }
        if ($c -eq '"') {
            $quoted += ('\' * (2 * $slashes + 1)) + '"'
        } else {
            $quoted += ('\' * $slashes) + $c
        }
        $slashes = 0
    }
    return $quoted + ('\' * (2 * $slashes)) + '"'
}

function Start-Target([string[]]$CommandLine) {
    # The command, in this console, its arguments passed exactly.
    $info = New-Object System.Diagnostics.ProcessStartInfo
    $info.FileName = $CommandLine[0]
    $info.Arguments = (@($CommandLine | Select-Object -Skip 1) | ForEach-Object { ConvertTo-Argument $_ }) -join ' '
    $info.UseShellExecute = $false
    try {
        return [System.Diagnostics.Process]::Start($info)
    } catch {
        throw "cannot start $($CommandLine[0]): $($_.Exception.Message)"
    }
}

function Test-CtrlC {
    # Ctrl+C, read as a key while TreatControlCAsInput is on; false without a console.
    try {
        while ([Console]::KeyAvailable) {
            $key = [Console]::ReadKey($true)
            if ($key.Key -eq [ConsoleKey]::C -and ($key.Modifiers -band [ConsoleModifiers]::Control)) {
                return $true
            }
        }
    } catch {
        return $false
    }
    return $false
}

function Wait-Target([System.Diagnostics.Process]$Proc) {
    # Until the process ends, -Seconds pass, or Ctrl+C.
    $deadline = if ($Seconds -gt 0) { (Get-Date).AddSeconds($Seconds) } else { [datetime]::MaxValue }
    $ctrlC = $false
    try {
        try { [Console]::TreatControlCAsInput = $true } catch { }
        while (-not $Proc.HasExited -and (Get-Date) -lt $deadline) {
            if (Test-CtrlC) {
                $ctrlC = $true
                break
            }
            [void]$Proc.WaitForExit(200)
        }
    } finally {
        try { [Console]::TreatControlCAsInput = $false } catch { }
    }
    if ($ctrlC) {
        Say 'Ctrl+C: stopping the recording'
    }
}

function Invoke-Tool([string]$What, [string[]]$Line) {
    # Runs Line (a tool and its arguments), its output on stderr: stdout is
    # the summary's. $true when it exited 0.
    Say "${What}: $($Line -join ' ')"
    $exe = $Line[0]
    $rest = @($Line | Select-Object -Skip 1)
    & $exe @rest | ForEach-Object { [Console]::Error.WriteLine($_) }
    return ($LASTEXITCODE -eq 0)
}

$prefixArgs = @()
if ($Prefix -ne '') {
    $prefixArgs = @('--prefix', $Prefix)
}

# -- record ----------------------------------------------------------------------------------
$started = $null         # the process this script started, stopped if it outlives the recording
$heapConfigured = $null  # the image name whose heap tracing this script turned on
$recording = $null       # 'wpr' or 'xperf' while a session runs unsaved
$failure = $null
$etl = Join-Path $Out "$Profile.etl"
Remove-Item -Force -ErrorAction SilentlyContinue $etl
$viaXperf = ($Profile -eq 'heap' -and $ProcessId -ne 0)
try {
    if ($Profile -eq 'heap' -and $ProcessId -eq 0) {
        # WPR's heap tracing reaches a process through Image File Execution
        # Options, read when the process starts: set before, unset after.
        $image = [IO.Path]::GetFileName($Command[0])
        if (-not $image.EndsWith('.exe', [StringComparison]::OrdinalIgnoreCase)) {
            $image += '.exe'
        }
        if (-not (Invoke-Tool 'heap tracing on' @('wpr.exe', '-heaptracingconfig', $image, 'enable'))) {
            throw "wpr -heaptracingconfig $image enable failed"
        }
        $heapConfigured = $image
    }
    if ($viaXperf) {
        $recording = 'xperf'
        $ok = (Invoke-Tool 'kernel session' @('xperf.exe', '-on', 'PROC_THREAD+LOADER')) -and
              (Invoke-Tool 'heap session' @('xperf.exe', '-start', 'HeapSession', '-heap',
                  '-Pids', "$ProcessId", '-stackwalk', 'HeapAlloc+HeapRealloc',
                  '-BufferSize', '1024', '-MinBuffers', '128', '-MaxBuffers', '128'))
        if (-not $ok) {
            throw 'xperf could not start its sessions (is another kernel trace running?)'
        }
    } else {
        $wprProfile = if ($Profile -eq 'cpu') { 'CPU' } else { 'Heap' }
        if (-not (Invoke-Tool 'recording' @('wpr.exe', '-start', $wprProfile, '-filemode'))) {
            throw 'wpr -start failed (is a recording already running? wpr -cancel ends it)'
        }
        $recording = 'wpr'
    }

    if ($ProcessId -eq 0) {
        $started = Start-Target $Command
        $target = $started
    }
    Wait-Target $target
    $targetPid = $target.Id

    if ($viaXperf) {
        $saved = Invoke-Tool 'saving' @('xperf.exe', '-stop', '-stop', 'HeapSession', '-d', $etl)
    } else {
        $saved = Invoke-Tool 'saving' @('wpr.exe', '-stop', $etl, '-skipPdbGen')
    }
    $recording = $null
    if (-not $saved -or -not (Test-Path $etl)) {
        throw "the recording was not saved to $etl"
    }
} catch {
    $failure = $_.Exception.Message
} finally {
    # Nothing left behind: the program started here, a session still
    # running, the heap tracing flag in the registry.
    if ($null -ne $started -and -not $started.HasExited) {
        Stop-Process -Id $started.Id -Force -ErrorAction SilentlyContinue
    }
    if ($recording -eq 'wpr') {
        & wpr.exe -cancel | Out-Null
    } elseif ($recording -eq 'xperf') {
        & xperf.exe -stop HeapSession | Out-Null
        & xperf.exe -stop | Out-Null
    }
    if ($null -ne $heapConfigured) {
        & wpr.exe -heaptracingconfig $heapConfigured disable | Out-Null
    }
}
if ($null -ne $failure) {
    Exit-Failed $failure
}

# -- export and summarise -----------------------------------------------------------------------
if ($Profile -eq 'cpu') {
    $exported = Join-Path $Out 'cpu-dump.txt'
    $export = @('xperf.exe', '-i', $etl, '-o', $exported, '-symbols', '-a', 'dumper', '-stacktimeshifting')
    $perfkitArgs = @('cpu', '--dump', $exported)
} else {
    $exported = Join-Path $Out 'heap-totals.txt'
    $export = @('xperf.exe', '-i', $etl, '-o', $exported, '-a', 'heap', '-totals', '-pid', "$targetPid")
    $perfkitArgs = @('heap', '--totals', $exported)
}
if (-not (Invoke-Tool 'exporting' $export)) {
    Exit-Failed "xperf could not export $etl"
}
$perfkitArgs += @('--pid', "$targetPid", '--out', $Out) + $prefixArgs
# perfkit prints the summary: on this script's stdout.
$env:PYTHONPATH = (Join-Path $Repo 'harness') + $(if ($env:PYTHONPATH) { ";$env:PYTHONPATH" } else { '' })
& $Py -m perfkit profile etw @perfkitArgs
if ($LASTEXITCODE -ne 0) {
    Exit-Failed "perfkit could not read $exported"
}
exit 0
