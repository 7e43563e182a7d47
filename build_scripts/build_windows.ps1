# Build miniconda-wizard.exe (windowed) and miniconda-wizard-cli.exe (console, silent mode) on Windows,
# into dist\miniconda-wizard\ and a .zip of it. Usage (PowerShell, from the repository):
#   py -3.11 -m venv .venv; .venv\Scripts\pip install -e ".[build]"; .\build_scripts\build_windows.ps1
# Both .exe files carry version info and an asInvoker manifest (build_scripts\windows\miniconda-wizard.manifest)
# and are not UPX-packed (antivirus false positives). Signing (optional, recommended: SmartScreen and antivirus
# trust signed files): set $env:MCW_SIGN_CERT (a .pfx) and $env:MCW_SIGN_PASSWORD, and signtool signs both
# .exe files with an RFC 3161 timestamp.
$ErrorActionPreference = "Stop"
Set-Location (Join-Path $PSScriptRoot "..")
$py = if ($env:PYTHON) { $env:PYTHON } else { ".venv\Scripts\python.exe" }
& $py build_scripts\build_pyinstaller.py --no-archive
if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }
if ($env:MCW_SIGN_CERT) {
  foreach ($exe in "dist\miniconda-wizard\miniconda-wizard.exe", "dist\miniconda-wizard\miniconda-wizard-cli.exe") {
    signtool sign /f $env:MCW_SIGN_CERT /p $env:MCW_SIGN_PASSWORD /fd SHA256 /tr http://timestamp.digicert.com /td SHA256 $exe
    if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }
  }
}
$version = & $py -c "import app; print(app.__version__)"
$zip = "dist\miniconda-wizard-$version-windows-x86_64.zip"
if (Test-Path $zip) { Remove-Item $zip }
Compress-Archive -Path dist\miniconda-wizard -DestinationPath $zip
Write-Output "Built $zip"
