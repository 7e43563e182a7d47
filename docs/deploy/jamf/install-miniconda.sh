#!/bin/bash
# Jamf Pro policy script: install Miniconda (and an env for LLM work) with the Miniconda Setup Wizard.
# Jamf passes $1 mount point, $2 computer name, $3 user name; the script's own parameters are $4 ... $8:
#   $4  the wizard's console executable   (default: /Applications/Miniconda Setup Wizard.app/Contents/MacOS/miniconda-wizard-cli)
#   $5  the answer file                    (default: none; e.g. /Library/Application Support/MinicondaWizard/fleet.toml)
#   $6  who: "machine" (root, /opt/miniconda3, no shell set-up) or "user" (the logged-in user, ~/miniconda3)
#   $7  more flags, as one string split on spaces (e.g. "--mirror tuna --accept-tos")
#   $8  log file                           (default: /Library/Logs/miniconda-wizard.log)
# The policy fails with the wizard's exit code (README.md, "Exit codes"); its message and fix are in the policy log.
set -u
WIZARD="${4:-/Applications/Miniconda Setup Wizard.app/Contents/MacOS/miniconda-wizard-cli}"
CONFIG="${5:-}"
WHO="${6:-user}"
read -r -a MORE <<< "${7:-}"
LOG="${8:-/Library/Logs/miniconda-wizard.log}"

args=(--silent --log-file "$LOG")
[ -n "$CONFIG" ] && args+=(--config "$CONFIG")
args+=("${MORE[@]}")

if [ "$WHO" = "machine" ]; then
    [ -x /opt/miniconda3/bin/conda ] && { echo "Miniconda is already in /opt/miniconda3"; exit 0; }
    "$WIZARD" "${args[@]}" --prefix /opt/miniconda3 --no-shell-init
    rc=$?
else
    user=$(stat -f %Su /dev/console)
    if [ -z "$user" ] || [ "$user" = "root" ] || [ "$user" = "loginwindow" ]; then
        echo "Nobody is logged in; run the policy at login or with who=machine."; exit 1
    fi
    home=$(dscl . -read "/Users/$user" NFSHomeDirectory | awk '{print $2}')
    [ -x "$home/miniconda3/bin/conda" ] && { echo "Miniconda is already in $home/miniconda3"; exit 0; }
    touch "$LOG" && chown "$user" "$LOG"
    # as the user, in the user's session: the shell files and ~/miniconda3 are theirs
    launchctl asuser "$(id -u "$user")" sudo -u "$user" -H "$WIZARD" "${args[@]}"
    rc=$?
fi
echo "miniconda-wizard exit code $rc"
tail -n 3 "$LOG"
exit "$rc"
