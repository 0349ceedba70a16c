#!/usr/bin/env bash
# Install v2x-controller on a Raspberry Pi (Raspberry Pi OS Bookworm or later), from a checkout.
#
#   sudo hw/install.sh [--dry-run] [--root DIR] [--yes] [--no-venv]
#   sudo hw/install.sh --uninstall [--purge] [--dry-run] [--root DIR] [--yes]
#
# What it does (hw/README.md, "Install on the Pi"):
#   - the system user v2x (no login shell, home /var/lib/v2x-controller), groups gpio, i2c and
#     dialout only; CAN needs no group (raw CAN sockets are unprivileged);
#   - apt packages it needs to build the venv (python3-venv python3-dev swig liblgpio-dev) and
#     gpiod (gpioset, for the stop hook), when missing;
#   - /opt/v2x-controller/venv with this checkout's package and its "pi" extra (pip, not
#     editable), the stop hook /opt/v2x-controller/libexec/v2x-safe-outputs, /usr/local/bin/v2xctl;
#   - /etc/v2x-controller/config.toml from hw/config.example.toml, ONLY if there is none;
#   - /var/lib/v2x-controller (the state directory, owned by v2x);
#   - the gateway (docs/gateway.md): the system user v2x-gateway (no login shell, home
#     /var/lib/v2x-gateway), the group v2x-control (the control socket's; v2x-gateway is its
#     member), /etc/v2x-gateway/gateway.toml from hw/gateway.example.toml ONLY if there is none,
#     systemd/tmpfiles.d/*.conf -> /etc/tmpfiles.d (/run/v2x-control, the socket's directory);
#   - systemd units (systemd/*.service -> /etc/systemd/system, *.network and *.link ->
#     /etc/systemd/network, system.conf.d/*.conf -> /etc/systemd/system.conf.d), the udev rules
#     (hw/udev/*.rules -> /etc/udev/rules.d), and enables systemd-networkd (CAN bring-up);
#   - the boot configuration: one marked block in /boot/firmware/config.txt (/boot/config.txt on
#     older images) between "# >>> v2x-controller" and "# <<< v2x-controller": I2C, SPI, the CAN
#     HAT, the SoC watchdog, no UART on BCM 14/15 (safety inputs) and the USB gadget port;
#   - cmdline.txt without a kernel console on the UART (the original kept as
#     cmdline.txt.v2x-backup), and g_serial loaded at boot (/etc/modules-load.d) for the
#     technician console on /dev/ttyGS0.
# It does not enable or start v2x-controller.service or v2x-gateway.service: check the configs
# and the wiring first.
#
# It plans first and shows every change (a unified diff for every edited file), asks before
# making them unless --yes, and is idempotent: a second run finds nothing to do and says so.
#
# Options:
#   --dry-run     print every action and change nothing (works as any user, on any machine)
#   --root DIR    install into a staging root: every path is prefixed with DIR; user and group
#                 creation, ownership, apt, systemctl and udevadm are printed and skipped. A venv
#                 is not relocatable: the one under DIR names DIR in its scripts, so for an image
#                 run the installer inside it (chroot) or use --no-venv.
#   --yes         do not ask for confirmation
#   --no-venv     leave the virtual environment alone (install or uninstall everything else)
#   --uninstall   remove the units, rules, hook, venv and boot block (cmdline.txt stays without
#                 the UART console); keep the config and the
#                 state (event log, latched faults) unless --purge, which also removes the
#                 user v2x
# Environment: V2X_INSTALL_PIP_OPTS adds options to the pip install (tests use --no-deps to
# install the package without downloading its dependencies).
set -euo pipefail
shopt -s nullglob
umask 022

# --- Assumed CAN HAT --------------------------------------------------------------------------
# A dual MCP2515 CAN HAT on SPI0 with a 16 MHz crystal per controller (for example a Waveshare
# 2-CH CAN HAT): can0 is the MCP2515 on chip select CE0 with its INT line on GPIO 25, can1 the
# one on CE1 with INT on GPIO 23. Check your board's documentation: some wire the two INT lines
# the other way round, and others use 8 or 12 MHz crystals. Change these, run again, reboot.
CAN_OSCILLATOR_HZ=16000000
CAN0_INTERRUPT_GPIO=25
CAN1_INTERRUPT_GPIO=23

# --- The UART pins and the technician port ------------------------------------------------------
# BCM 14 and 15 (the UART's TXD/RXD) are the rcm_ok and imd_ok safety inputs of the reference
# wiring: the boot block keeps the UART off them and makes them inputs from the firmware on, and
# the kernel console is taken off the UART in cmdline.txt. The technician console is a USB gadget
# serial port (/dev/ttyGS0, g_serial) on boards whose USB-C port can be a USB device; config.txt
# board types (revision code "type" field): 0x11 Pi 4 Model B, 0x12 Pi Zero 2 W, 0x17 Pi 5.
UART_SAFETY_INPUTS=14,15
GADGET_BOARD_TYPES=(0x11 0x12 0x17)

# --- Where things go --------------------------------------------------------------------------
SERVICE=v2x-controller
SERVICE_USER=v2x
SERVICE_GROUPS=(gpio i2c dialout)
PREFIX=/opt/v2x-controller
VENV=$PREFIX/venv
HOOK=$PREFIX/libexec/v2x-safe-outputs
DOC=$PREFIX/share/doc/hw-README.md
CLI_LINK=/usr/local/bin/v2xctl
CONF_DIR=/etc/v2x-controller
CONF=$CONF_DIR/config.toml
STATE_DIR=/var/lib/v2x-controller
GATEWAY_SERVICE=v2x-gateway
GATEWAY_USER=v2x-gateway
CONTROL_GROUP=v2x-control
GATEWAY_HOME=/var/lib/v2x-gateway
GATEWAY_CONF_DIR=/etc/v2x-gateway
GATEWAY_CONF=$GATEWAY_CONF_DIR/gateway.toml
TMPFILES_DIR=/etc/tmpfiles.d
UNIT_DIR=/etc/systemd/system
NETWORK_DIR=/etc/systemd/network
SYSTEM_CONF_DIR=/etc/systemd/system.conf.d
UDEV_DIR=/etc/udev/rules.d
MODULES_LOAD_DIR=/etc/modules-load.d
CMDLINE_BACKUP_SUFFIX=.v2x-backup
GADGET_PORT=/dev/ttyGS0
BOOT_CONFIGS=(/boot/firmware/config.txt /boot/config.txt)
CMDLINES=(/boot/firmware/cmdline.txt /boot/cmdline.txt)
APT_PACKAGES=(python3-venv python3-dev swig liblgpio-dev gpiod)
BLOCK_BEGIN='# >>> v2x-controller'
BLOCK_END='# <<< v2x-controller'
PYTHON=python3
STAMP_NAME=.v2x-installed-source

SRC_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# --- Options ----------------------------------------------------------------------------------
DRY_RUN=0
ROOT=
ASSUME_YES=0
UNINSTALL=0
PURGE=0
NO_VENV=0

usage() {
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'
}

die() {
    printf 'install.sh: %s\n' "$*" >&2
    exit 2
}

while (($#)); do
    case $1 in
        --dry-run) DRY_RUN=1 ;;
        --root)
            (($# >= 2)) || die "--root needs a directory"
            ROOT=$2
            shift
            ;;
        --root=*) ROOT=${1#--root=} ;;
        --yes | -y) ASSUME_YES=1 ;;
        --uninstall) UNINSTALL=1 ;;
        --purge) PURGE=1 ;;
        --no-venv) NO_VENV=1 ;;
        -h | --help)
            usage
            exit 0
            ;;
        *) die "unknown option: $1 (see --help)" ;;
    esac
    shift
done
if ((PURGE && !UNINSTALL)); then
    die "--purge goes with --uninstall"
fi
if [[ -n $ROOT ]]; then
    [[ -d $ROOT ]] || die "--root $ROOT: not a directory"
    ROOT=$(cd "$ROOT" && pwd)
    [[ $ROOT != / ]] || ROOT=
fi
STAGING=0
[[ -z $ROOT ]] || STAGING=1
if ((!DRY_RUN && !STAGING)) && [[ $(id -u) -ne 0 ]]; then
    die "run it as root: sudo $0 $* (or --dry-run to see what it would do)"
fi

# --- Plan and apply ---------------------------------------------------------------------------
# Every step runs twice: PHASE=plan checks the system and describes each change (with a diff for
# edited files), PHASE=apply makes them. Nothing is changed in the plan phase.
PHASE=plan
CHANGES=0
RELOAD_SYSTEMD=0
RELOAD_UDEV=0
RELOAD_TMPFILES=0
RELOAD_NETWORKD=0
REBOOT_NEEDED=0
WORK=$(mktemp -d "${TMPDIR:-/tmp}/v2x-install.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

applying() { [[ $PHASE == apply ]]; }

# change TEXT: one change the run makes.
change() {
    if applying; then
        printf '==> %s\n' "$*"
    else
        CHANGES=$((CHANGES + 1))
        printf '  + %s\n' "$*"
    fi
}

# same TEXT: already as wanted (shown in the plan only).
same() {
    applying || printf '  = %s\n' "$*"
}

# skip TEXT: a step that this kind of run does not take (shown in the plan only).
skip() {
    applying || printf '  - skipped: %s\n' "$*"
}

warn() {
    applying || printf '  ! %s\n' "$*"
}

# show_diff OLD NEW PATH: a unified diff, indented, in the plan only (OLD may be missing).
show_diff() {
    applying && return 0
    local old=$1 new=$2 path=$3
    [[ -e $old ]] || old=/dev/null
    diff -u --label "a$path" --label "b$path" "$old" "$new" | sed 's/^/      /' || true
}

run() {
    printf '    $ %s\n' "$*"
    "$@"
}

# file_mode PATH: octal mode, or nothing if PATH does not exist.
file_mode() {
    if [[ -e $1 || -L $1 ]]; then stat -c '%a' "$1"; fi
}

# --- Steps ------------------------------------------------------------------------------------

step_packages() {
    if ((STAGING)); then
        skip "apt packages ${APT_PACKAGES[*]} (not under --root)"
        return 0
    fi
    if ! command -v dpkg-query >/dev/null; then
        warn "dpkg-query not found: cannot check for ${APT_PACKAGES[*]}; install them by hand"
        return 0
    fi
    local missing=() pkg
    for pkg in "${APT_PACKAGES[@]}"; do
        if [[ $(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true) != *"ok installed" ]]; then
            missing+=("$pkg")
        fi
    done
    if ((${#missing[@]} == 0)); then
        same "apt packages ${APT_PACKAGES[*]} are installed"
        return 0
    fi
    change "install apt packages: apt-get install -y --no-install-recommends ${missing[*]}"
    if applying; then
        run apt-get update -q
        run apt-get install -y -q --no-install-recommends "${missing[@]}"
    fi
}

step_groups_and_user() {
    local groups_csv
    groups_csv=$(IFS=,; printf '%s' "${SERVICE_GROUPS[*]}")
    if ((STAGING)); then
        skip "system groups ${SERVICE_GROUPS[*]} and user $SERVICE_USER (not under --root):" \
            "useradd --system --home-dir $STATE_DIR --no-create-home --shell /usr/sbin/nologin" \
            "--user-group --groups $groups_csv $SERVICE_USER"
        return 0
    fi
    local group
    for group in "${SERVICE_GROUPS[@]}"; do
        if getent group "$group" >/dev/null; then
            same "group $group exists"
        else
            change "create system group $group: groupadd --system $group"
            if applying; then run groupadd --system "$group"; fi
        fi
    done
    if ! getent passwd "$SERVICE_USER" >/dev/null; then
        change "create system user $SERVICE_USER (no login shell, home $STATE_DIR, groups" \
            "$groups_csv): useradd --system --home-dir $STATE_DIR --no-create-home" \
            "--shell /usr/sbin/nologin --user-group --groups $groups_csv $SERVICE_USER"
        if applying; then
            run useradd --system --home-dir "$STATE_DIR" --no-create-home \
                --shell /usr/sbin/nologin --user-group --groups "$groups_csv" \
                --comment "v2x-controller service" "$SERVICE_USER"
        fi
        return 0
    fi
    local have want shell
    have=$(id -nG "$SERVICE_USER" | tr ' ' '\n' | grep -vx "$(id -gn "$SERVICE_USER")" \
        | sort | tr '\n' ' ' || true)
    want=$(printf '%s\n' "${SERVICE_GROUPS[@]}" | sort | tr '\n' ' ')
    if [[ $have == "$want" ]]; then
        same "user $SERVICE_USER is in exactly the groups $groups_csv"
    else
        change "set the groups of $SERVICE_USER to $groups_csv (now: ${have:-none}):" \
            "usermod --groups $groups_csv $SERVICE_USER"
        if applying; then run usermod --groups "$groups_csv" "$SERVICE_USER"; fi
    fi
    shell=$(getent passwd "$SERVICE_USER" | cut -d: -f7)
    if [[ $shell == */nologin || $shell == */false ]]; then
        same "user $SERVICE_USER has no login shell ($shell)"
    else
        change "take the login shell of $SERVICE_USER away: usermod --shell /usr/sbin/nologin"
        if applying; then run usermod --shell /usr/sbin/nologin "$SERVICE_USER"; fi
    fi
}

# The gateway's user: no login shell, its own group, and the control socket's group only.
step_gateway_user() {
    if ((STAGING)); then
        skip "system group $CONTROL_GROUP and user $GATEWAY_USER (not under --root):" \
            "useradd --system --home-dir $GATEWAY_HOME --no-create-home --shell" \
            "/usr/sbin/nologin --user-group --groups $CONTROL_GROUP $GATEWAY_USER"
        return 0
    fi
    if getent group "$CONTROL_GROUP" >/dev/null; then
        same "group $CONTROL_GROUP exists"
    else
        change "create system group $CONTROL_GROUP (the control socket): groupadd --system" \
            "$CONTROL_GROUP"
        if applying; then run groupadd --system "$CONTROL_GROUP"; fi
    fi
    if ! getent passwd "$GATEWAY_USER" >/dev/null; then
        change "create system user $GATEWAY_USER (no login shell, groups $CONTROL_GROUP):" \
            "useradd --system --home-dir $GATEWAY_HOME --no-create-home --shell" \
            "/usr/sbin/nologin --user-group --groups $CONTROL_GROUP $GATEWAY_USER"
        if applying; then
            run useradd --system --home-dir "$GATEWAY_HOME" --no-create-home \
                --shell /usr/sbin/nologin --user-group --groups "$CONTROL_GROUP" \
                --comment "v2x-controller gateway" "$GATEWAY_USER"
        fi
        return 0
    fi
    local have
    have=$(id -nG "$GATEWAY_USER" | tr ' ' '\n' | grep -vx "$(id -gn "$GATEWAY_USER")" \
        | sort | tr '\n' ' ' || true)
    if [[ $have == "$CONTROL_GROUP " ]]; then
        same "user $GATEWAY_USER is in exactly the group $CONTROL_GROUP"
    else
        change "set the groups of $GATEWAY_USER to $CONTROL_GROUP (now: ${have:-none}):" \
            "usermod --groups $CONTROL_GROUP $GATEWAY_USER"
        if applying; then run usermod --groups "$CONTROL_GROUP" "$GATEWAY_USER"; fi
    fi
}

step_gateway_config() {
    local target=$ROOT$GATEWAY_CONF
    if [[ ! -d $ROOT$GATEWAY_CONF_DIR ]]; then
        change "create $GATEWAY_CONF_DIR"
        if applying; then mkdir -p "$ROOT$GATEWAY_CONF_DIR" && chmod 750 "$ROOT$GATEWAY_CONF_DIR"; fi
    fi
    ensure_owner "$GATEWAY_CONF_DIR" "root:$GATEWAY_USER" 750
    if [[ -e $target ]]; then
        same "$GATEWAY_CONF exists: kept as it is (never overwritten)"
    else
        change "install $GATEWAY_CONF from hw/gateway.example.toml (the MQTT broker and its" \
            "password go there, never into the controller's config)"
        if applying; then
            install -m 640 "$SRC_DIR/hw/gateway.example.toml" "$target"
        fi
    fi
    ensure_owner "$GATEWAY_CONF" "root:$GATEWAY_USER" 640
}

# source_digest: what the venv was built from (package sources, pip options).
source_digest() {
    (
        cd "$SRC_DIR"
        printf 'pi extra; pip options: %s\n' "${V2X_INSTALL_PIP_OPTS:-}"
        find pyproject.toml README.md controller hal gateway -type f ! -path '*/__pycache__/*' \
            ! -name '*.pyc' -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
    ) | sha256sum | cut -d' ' -f1
}

step_venv() {
    local venv=$ROOT$VENV
    if ((NO_VENV)); then
        skip "virtual environment $VENV (--no-venv)"
        return 0
    fi
    if [[ ! -x $venv/bin/python ]]; then
        if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            if applying || ((!DRY_RUN)); then
                die "$PYTHON >= 3.11 is needed for the virtual environment"
            fi
            warn "$PYTHON >= 3.11 is needed for the virtual environment (not found here)"
        fi
        change "create the virtual environment $VENV: $PYTHON -m venv $VENV"
        if applying; then run "$PYTHON" -m venv "$venv"; fi
    else
        same "virtual environment $VENV exists"
    fi
    local digest
    digest=$(source_digest)
    if [[ -f $venv/$STAMP_NAME && $(cat "$venv/$STAMP_NAME") == "$digest" ]]; then
        same "v2x-controller[pi] in $VENV is this checkout's (source digest ${digest:0:12})"
        return 0
    fi
    local -a pip_opts=()
    read -r -a pip_opts <<<"${V2X_INSTALL_PIP_OPTS:-}"
    change "install v2x-controller[pi] from $SRC_DIR into $VENV:" \
        "$VENV/bin/python -m pip install ${pip_opts[*]:+${pip_opts[*]} }<copy of the checkout>[pi]"
    if applying; then
        # Build from a copy: pip writes build/ and *.egg-info next to pyproject.toml, and the
        # checkout (often owned by the login user) is not ours to write as root.
        local copy=$WORK/source
        mkdir -p "$copy"
        cp -R "$SRC_DIR/pyproject.toml" "$SRC_DIR/README.md" "$SRC_DIR/controller" \
            "$SRC_DIR/hal" "$SRC_DIR/gateway" "$copy/"
        run "$venv/bin/python" -m pip install --disable-pip-version-check --no-input \
            --progress-bar off "${pip_opts[@]}" "${copy}[pi]"
        printf '%s\n' "$digest" >"$venv/$STAMP_NAME"
    fi
}

# note_reload DEST: what must be reloaded after DEST changed.
note_reload() {
    case $1 in
        "$UNIT_DIR"/*) RELOAD_SYSTEMD=1 ;;
        "$NETWORK_DIR"/*) RELOAD_NETWORKD=1 ;;
        "$UDEV_DIR"/*) RELOAD_UDEV=1 ;;
        "$TMPFILES_DIR"/*) RELOAD_TMPFILES=1 ;;
        "$SYSTEM_CONF_DIR"/* | "$MODULES_LOAD_DIR"/*) REBOOT_NEEDED=1 ;;
    esac
}

# install_file SRC DEST MODE: copy a file from the checkout (DEST without the root prefix).
install_file() {
    local src=$1 dest=$2 mode=$3 target=$ROOT$2
    if [[ -f $target ]] && cmp -s "$src" "$target"; then
        if [[ $(file_mode "$target") == "$mode" ]]; then
            same "$dest is up to date"
        else
            change "chmod $mode $dest"
            if applying; then chmod "$mode" "$target"; fi
        fi
        return 0
    fi
    if [[ -e $target ]]; then
        change "update $dest from ${src#"$SRC_DIR"/}"
        show_diff "$target" "$src" "$dest"
    else
        change "install $dest from ${src#"$SRC_DIR"/}"
    fi
    if applying; then install -D -m "$mode" "$src" "$target"; fi
    note_reload "$dest"
}

# managed_files: "SRC DEST MODE" lines for every file copied from the checkout.
managed_files() {
    local f
    for f in "$SRC_DIR"/systemd/*.service; do
        printf '%s %s 644\n' "$f" "$UNIT_DIR/${f##*/}"
    done
    for f in "$SRC_DIR"/systemd/*.network "$SRC_DIR"/systemd/*.link; do
        printf '%s %s 644\n' "$f" "$NETWORK_DIR/${f##*/}"
    done
    for f in "$SRC_DIR"/systemd/system.conf.d/*.conf; do
        printf '%s %s 644\n' "$f" "$SYSTEM_CONF_DIR/${f##*/}"
    done
    for f in "$SRC_DIR"/systemd/tmpfiles.d/*.conf; do
        printf '%s %s 644\n' "$f" "$TMPFILES_DIR/${f##*/}"
    done
    for f in "$SRC_DIR"/hw/udev/*.rules; do
        printf '%s %s 644\n' "$f" "$UDEV_DIR/${f##*/}"
    done
    for f in "$SRC_DIR"/hw/modules-load.d/*.conf; do
        printf '%s %s 644\n' "$f" "$MODULES_LOAD_DIR/${f##*/}"
    done
    printf '%s %s 755\n' "$SRC_DIR/hw/v2x-safe-outputs" "$HOOK"
    printf '%s %s 644\n' "$SRC_DIR/hw/README.md" "$DOC"
}

step_files() {
    local src dest mode
    while read -r src dest mode; do
        install_file "$src" "$dest" "$mode"
    done < <(managed_files)
}

step_cli_link() {
    local target=$ROOT$CLI_LINK
    if ((NO_VENV)); then
        skip "$CLI_LINK -> $VENV/bin/v2xctl (--no-venv)"
        return 0
    fi
    if [[ -L $target && $(readlink "$target") == "$VENV/bin/v2xctl" ]]; then
        same "$CLI_LINK -> $VENV/bin/v2xctl"
        return 0
    fi
    if [[ -e $target && ! -L $target ]]; then
        warn "$CLI_LINK exists and is not a link: left alone (use $VENV/bin/v2xctl)"
        return 0
    fi
    change "link $CLI_LINK -> $VENV/bin/v2xctl"
    if applying; then
        mkdir -p "$(dirname "$target")"
        ln -sfn "$VENV/bin/v2xctl" "$target"
    fi
}

# ensure_owner PATH OWNER MODE: a directory or file's ownership and mode (not under --root).
ensure_owner() {
    local path=$1 owner=$2 mode=$3 target=$ROOT$1
    if ((STAGING)); then
        if [[ ! -e $target ]]; then
            return 0 # created later in this run, with this mode
        elif [[ $(file_mode "$target") == "$mode" ]]; then
            same "$path has mode $mode (owner $owner is not set under --root)"
        else
            change "chmod $mode $path (owner $owner is not set under --root)"
            if applying; then chmod "$mode" "$target"; fi
        fi
        return 0
    fi
    local have=
    [[ ! -e $target ]] || have="$(stat -c '%U:%G' "$target") $(file_mode "$target")"
    if [[ $have == "$owner $mode" ]]; then
        same "$path is $owner, mode $mode"
        return 0
    fi
    change "chown $owner $path; chmod $mode $path"
    if applying; then
        run chown "$owner" "$target"
        run chmod "$mode" "$target"
    fi
}

step_config() {
    local target=$ROOT$CONF
    if [[ ! -d $ROOT$CONF_DIR ]]; then
        change "create $CONF_DIR"
        if applying; then mkdir -p "$ROOT$CONF_DIR" && chmod 750 "$ROOT$CONF_DIR"; fi
    fi
    ensure_owner "$CONF_DIR" "root:$SERVICE_USER" 750
    if [[ -e $target ]]; then
        same "$CONF exists: kept as it is (never overwritten; compare with" \
            "hw/config.example.toml after an update)"
    else
        change "install $CONF from hw/config.example.toml (edit it before the first start)"
        if applying; then
            install -m 640 "$SRC_DIR/hw/config.example.toml" "$target"
        fi
    fi
    ensure_owner "$CONF" "root:$SERVICE_USER" 640
}

step_state_dir() {
    if [[ ! -d $ROOT$STATE_DIR ]]; then
        change "create the state directory $STATE_DIR (event log, latched faults)"
        if applying; then mkdir -p "$ROOT$STATE_DIR" && chmod 750 "$ROOT$STATE_DIR"; fi
    fi
    ensure_owner "$STATE_DIR" "$SERVICE_USER:$SERVICE_USER" 750
}

# boot_config: the config.txt to edit (under the root), or nothing.
boot_config() {
    local f
    for f in "${BOOT_CONFIGS[@]}"; do
        if [[ -f $ROOT$f ]]; then
            printf '%s\n' "$f"
            return 0
        fi
    done
}

boot_block() {
    cat <<EOF
$BLOCK_BEGIN (written by hw/install.sh; "hw/install.sh --uninstall" removes it)
[all]
dtparam=i2c_arm=on
# I2C at 400 kHz: the tick's reads take ~1.6 ms on the wire (~6.3 ms at 100 kHz).
dtparam=i2c_arm_baudrate=400000
dtparam=spi=on
# BCM 14/15 are the rcm_ok and imd_ok safety inputs: no UART on them (hw/README.md).
enable_uart=0
gpio=${UART_SAFETY_INPUTS}=ip
dtoverlay=mcp2515-can0,oscillator=$CAN_OSCILLATOR_HZ,interrupt=$CAN0_INTERRUPT_GPIO
dtoverlay=mcp2515-can1,oscillator=$CAN_OSCILLATOR_HZ,interrupt=$CAN1_INTERRUPT_GPIO
dtparam=watchdog=on
# Technician console: USB gadget serial /dev/ttyGS0 (Pi 4 B, Zero 2 W, Pi 5; hw/README.md).
EOF
    local board
    for board in "${GADGET_BOARD_TYPES[@]}"; do
        printf '[board-type=%s]\ndtoverlay=dwc2,dr_mode=peripheral\n' "$board"
    done
    printf '[all]\n%s\n' "$BLOCK_END"
}

# edit_block FILE MODE OUT: FILE with the marked block replaced (MODE=install, appended when
# missing) or removed (MODE=remove), written to OUT.
edit_block() {
    local file=$1 mode=$2 out=$3 begins ends
    begins=$(grep -c "^$BLOCK_BEGIN" "$file" || true)
    ends=$(grep -c "^$BLOCK_END" "$file" || true)
    if [[ $begins != "$ends" ]] || ((begins > 1)); then
        die "$file has $begins '$BLOCK_BEGIN' and $ends '$BLOCK_END' lines:" \
            "fix the block by hand, then run again"
    fi
    boot_block >"$WORK/block"
    awk -v begin="$BLOCK_BEGIN" -v end="$BLOCK_END" -v blockfile="$WORK/block" -v mode="$mode" '
        function emit(   line) { while ((getline line < blockfile) > 0) print line; done = 1 }
        index($0, begin) == 1 { inblock = 1; if (mode == "install") emit(); next }
        inblock { if (index($0, end) == 1) inblock = 0; next }
        { print }
        END { if (mode == "install" && !done) emit() }
    ' "$file" >"$out"
}

# write_in_place FILE NEW: replace FILE by NEW (same directory, rename), keeping FILE's mode.
write_in_place() {
    local file=$1 new=$2 tmp=$1.v2x-new
    cat "$new" >"$tmp"
    chmod --reference="$file" "$tmp" 2>/dev/null || true # vfat has no modes
    sync "$tmp" 2>/dev/null || true
    mv -f "$tmp" "$file"
}

step_boot() {
    local mode=$1 config
    config=$(boot_config)
    if [[ -z $config ]]; then
        if [[ $mode == install ]]; then
            skip "boot configuration: no ${BOOT_CONFIGS[*]} under ${ROOT:-/} (not a" \
                "Raspberry Pi?); on a Pi this block would be added to config.txt:"
            applying || boot_block | sed 's/^/      /'
        fi
        return 0
    fi
    local target=$ROOT$config new=$WORK/config.txt
    edit_block "$target" "$mode" "$new"
    if cmp -s "$target" "$new"; then
        if [[ $mode == install ]]; then
            same "$config has the v2x-controller block (I2C, SPI, CAN HAT, watchdog, no UART," \
                "USB gadget port)"
        fi
        return 0
    fi
    if [[ $mode == install ]]; then
        change "edit $config: I2C, SPI, the CAN HAT overlays, the watchdog, the UART off BCM" \
            "14/15 and the USB gadget port (reboot to apply)"
    else
        change "remove the v2x-controller block from $config (reboot to apply)"
    fi
    show_diff "$target" "$new" "$config"
    if applying; then
        write_in_place "$target" "$new"
        REBOOT_NEEDED=1
    fi
}

# cmdline_file: the cmdline.txt to edit (under the root), or nothing.
cmdline_file() {
    local f
    for f in "${CMDLINES[@]}"; do
        if [[ -f $ROOT$f ]]; then
            printf '%s\n' "$f"
            return 0
        fi
    done
}

# SERIAL_CONSOLE: a kernel console on a UART (serial0/1 are aliases of ttyAMA*/ttyS*).
SERIAL_CONSOLE='console=(serial[0-9]+|ttyAMA[0-9]+|ttyS[0-9]+)(,[^ ]*)?'

# strip_serial_console FILE OUT: FILE without its UART console= words (unchanged without one).
strip_serial_console() {
    local file=$1 out=$2
    if ! grep -Eq "(^|[[:space:]])$SERIAL_CONSOLE([[:space:]]|\$)" "$file"; then
        cat "$file" >"$out"
        return 0
    fi
    awk -v drop="^$SERIAL_CONSOLE\$" '
        {
            line = ""
            n = split($0, word, /[ \t]+/)
            for (i = 1; i <= n; i++) {
                if (word[i] != "" && word[i] !~ drop) line = line (line == "" ? "" : " ") word[i]
            }
            print line
        }
    ' "$file" >"$out"
}

# The kernel console on the UART would drive TXD (BCM 14, rcm_ok) at every boot: take it off,
# once, with the original kept as cmdline.txt.v2x-backup (a later run never overwrites that).
# The uninstall leaves cmdline.txt as it is: with the reference wiring the console must stay off.
step_cmdline() {
    local file
    file=$(cmdline_file)
    if [[ -z $file ]]; then
        skip "kernel command line: no ${CMDLINES[*]} under ${ROOT:-/} (not a Raspberry Pi?)"
        return 0
    fi
    local target=$ROOT$file new=$WORK/cmdline.txt backup=$file$CMDLINE_BACKUP_SUFFIX
    strip_serial_console "$target" "$new"
    if cmp -s "$target" "$new"; then
        same "$file has no kernel console on the UART (BCM 14/15 stay safety inputs)"
        return 0
    fi
    if [[ -e $ROOT$backup ]]; then
        change "edit $file: take the kernel console off the UART (BCM 14 TXD is the rcm_ok" \
            "input); $backup (an earlier original) is kept (reboot to apply)"
    else
        change "edit $file: take the kernel console off the UART (BCM 14 TXD is the rcm_ok" \
            "input); the original is kept as $backup (reboot to apply)"
    fi
    show_diff "$target" "$new" "$file"
    if applying; then
        [[ -e $ROOT$backup ]] || cp -p "$target" "$ROOT$backup"
        write_in_place "$target" "$new"
        REBOOT_NEEDED=1
    fi
}

# console_config FILE: "PORTS TECHNICIAN_PIN_SET" of a config file (ports comma-separated, or -).
console_config() {
    "$PYTHON" - "$1" <<'PY' 2>/dev/null || true
import sys
import tomllib

with open(sys.argv[1], "rb") as handle:
    data = tomllib.load(handle)
ports = data.get("hal", {}).get("serial", {}).get("ports", [])
pin = data.get("console", {}).get("technician_pin_hash", "")
print(",".join(map(str, ports)) or "-", "yes" if pin else "no")
PY
}

# The technician console is the only way to clear a latched fault: say when there is none yet.
check_console() {
    applying && return 0
    local file=$ROOT$CONF ports=- pin=no
    [[ -e $file ]] || file=$SRC_DIR/hw/config.example.toml
    read -r ports pin < <(console_config "$file") || true
    if [[ ${ports:--} == - || $pin != yes ]]; then
        warn "no technician console yet (hal.serial.ports: ${ports:--}; technician PIN set:" \
            "${pin:-no}): a latched fault cannot be cleared without one; see the next steps" \
            "at the end and hw/README.md, \"Technician console\""
    else
        same "technician console on $ports with a technician PIN"
    fi
}

step_networkd() {
    if ((STAGING)); then
        skip "systemctl enable systemd-networkd (not under --root)"
        return 0
    fi
    if systemctl is-enabled --quiet systemd-networkd.service 2>/dev/null; then
        same "systemd-networkd is enabled (brings can0 and can1 up)"
        return 0
    fi
    change "enable systemd-networkd (brings can0 and can1 up at 500 kbit/s):" \
        "systemctl enable --now systemd-networkd.service"
    if applying; then run systemctl enable --now systemd-networkd.service; fi
}

# remove_path DEST [-r]: remove one installed file, link or (with -r) directory.
remove_path() {
    local dest=$1 recursive=${2:-} target=$ROOT$1
    [[ -e $target || -L $target ]] || return 0
    change "remove $dest"
    if applying; then
        if [[ $recursive == -r ]]; then rm -rf "$target"; else rm -f "$target"; fi
    fi
    note_reload "$dest"
}

# remove_empty_dirs DIR...: rmdir each directory (under the root) that is left empty.
remove_empty_dirs() {
    local dir
    for dir in "$@"; do
        if [[ -d $ROOT$dir && -z $(ls -A "$ROOT$dir") ]]; then
            rmdir "$ROOT$dir"
        fi
    done
}

step_stop_service() {
    if ((STAGING)); then
        skip "systemctl disable --now $GATEWAY_SERVICE $SERVICE (not under --root)"
        return 0
    fi
    if [[ -e $UNIT_DIR/$GATEWAY_SERVICE.service ]] \
        && { systemctl is-enabled --quiet "$GATEWAY_SERVICE" 2>/dev/null \
            || systemctl is-active --quiet "$GATEWAY_SERVICE" 2>/dev/null; }; then
        change "stop and disable $GATEWAY_SERVICE: systemctl disable --now $GATEWAY_SERVICE"
        if applying; then run systemctl disable --now "$GATEWAY_SERVICE"; fi
    fi
    if [[ ! -e $UNIT_DIR/$SERVICE.service ]]; then
        return 0
    fi
    if systemctl is-enabled --quiet "$SERVICE" 2>/dev/null \
        || systemctl is-active --quiet "$SERVICE" 2>/dev/null; then
        change "stop and disable $SERVICE (the controller ramps down and opens every contactor):" \
            "systemctl disable --now $SERVICE"
        if applying; then run systemctl disable --now "$SERVICE"; fi
    fi
}

step_remove_files() {
    local src dest mode
    while read -r src dest mode; do
        remove_path "$dest"
    done < <(managed_files)
    if ((NO_VENV)); then
        skip "virtual environment $VENV and $CLI_LINK (--no-venv)"
    else
        if [[ -L $ROOT$CLI_LINK && $(readlink "$ROOT$CLI_LINK") == "$VENV/bin/v2xctl" ]]; then
            remove_path "$CLI_LINK"
        fi
        remove_path "$VENV" -r
    fi
    if applying; then
        remove_empty_dirs "$PREFIX/libexec" "$PREFIX/share/doc" "$PREFIX/share" "$PREFIX" \
            "$SYSTEM_CONF_DIR"
    fi
}

step_purge() {
    if ((!PURGE)); then
        [[ ! -e $ROOT$CONF ]] || same "keep $CONF (--purge removes it)"
        [[ ! -e $ROOT$STATE_DIR ]] || same "keep $STATE_DIR: event log, energy counters," \
            "latched faults (--purge removes it)"
        return 0
    fi
    remove_path "$CONF_DIR" -r
    remove_path "$GATEWAY_CONF_DIR" -r
    remove_path "$STATE_DIR" -r
    if [[ -e $ROOT$STATE_DIR ]]; then
        warn "--purge deletes the latched faults too: the next install starts with none"
    fi
    if ((STAGING)); then
        skip "userdel $SERVICE_USER $GATEWAY_USER, groupdel $CONTROL_GROUP (not under --root)"
        return 0
    fi
    local user
    for user in "$SERVICE_USER" "$GATEWAY_USER"; do
        if getent passwd "$user" >/dev/null; then
            change "remove the user $user: userdel $user"
            if applying; then run userdel "$user"; fi
        fi
    done
    if getent group "$CONTROL_GROUP" >/dev/null; then
        change "remove the group $CONTROL_GROUP: groupdel $CONTROL_GROUP"
        if applying; then run groupdel "$CONTROL_GROUP"; fi
    fi
}

plan_install() {
    step_packages
    step_groups_and_user
    step_venv
    step_files
    step_cli_link
    step_config
    step_state_dir
    step_gateway_user
    step_gateway_config
    step_boot install
    step_cmdline
    check_console
    step_networkd
}

plan_uninstall() {
    step_stop_service
    step_remove_files
    step_boot remove
    step_purge
}

plan() {
    if ((UNINSTALL)); then plan_uninstall; else plan_install; fi
}

# --- Main -------------------------------------------------------------------------------------
what=install
((!UNINSTALL)) || what=uninstall
((!PURGE)) || what="uninstall --purge"
dry=
((!DRY_RUN)) || dry=', dry run: nothing will be changed'
printf 'v2x-controller %s: source %s, root %s%s\n' "$what" "$SRC_DIR" "${ROOT:-/}" "$dry"
if ((!STAGING && !UNINSTALL)) && ! grep -qs 'Raspberry Pi' /proc/device-tree/model; then
    printf '  ! this does not look like a Raspberry Pi (no /proc/device-tree/model)\n'
fi
printf 'Plan:\n'
PHASE=plan
plan

if ((CHANGES == 0)); then
    if ((UNINSTALL)); then
        printf 'Nothing to do: v2x-controller is not installed under %s.\n' "${ROOT:-/}"
    else
        printf 'Nothing to do: v2x-controller is installed and up to date under %s.\n' \
            "${ROOT:-/}"
    fi
    exit 0
fi
if ((DRY_RUN)); then
    printf 'Dry run: %d changes shown above; nothing was changed.\n' "$CHANGES"
    exit 0
fi
if ((!ASSUME_YES)); then
    printf 'Make these %d changes? [y/N] ' "$CHANGES"
    answer=
    read -r answer || true
    case $answer in
        y | Y | yes | YES) ;;
        *)
            printf 'Nothing was changed.\n'
            exit 1
            ;;
    esac
fi

PHASE=apply
plan

if ((RELOAD_SYSTEMD)); then
    if ((STAGING)); then
        printf '  - skipped: systemctl daemon-reload (not under --root)\n'
    else
        run systemctl daemon-reload
    fi
fi
if ((RELOAD_NETWORKD)); then
    if ((STAGING)); then
        printf '  - skipped: networkctl reload (not under --root)\n'
    elif systemctl is-active --quiet systemd-networkd.service; then
        run networkctl reload
    fi
fi
if ((RELOAD_TMPFILES && !UNINSTALL)); then
    if ((STAGING)); then
        printf '  - skipped: systemd-tmpfiles --create (not under --root)\n'
    else
        run systemd-tmpfiles --create "$TMPFILES_DIR/v2x-control.conf"
    fi
fi
if ((RELOAD_UDEV)); then
    if ((STAGING)); then
        printf '  - skipped: udevadm control --reload; udevadm trigger (not under --root)\n'
    else
        run udevadm control --reload
        run udevadm trigger --subsystem-match=gpio --subsystem-match=i2c-dev \
            --subsystem-match=tty
    fi
fi

printf 'Done: %d changes made.\n' "$CHANGES"
if ((UNINSTALL)); then
    printf 'systemd-networkd was left enabled (other interfaces may use it).\n'
    ((!REBOOT_NEEDED)) || printf 'Reboot to drop the CAN, I2C and USB gadget boot settings.\n'
    printf 'cmdline.txt was left as it is (no kernel console on the UART pins).\n'
    exit 0
fi
((!REBOOT_NEEDED)) || printf 'Reboot to apply the boot configuration and the watchdog: sudo reboot\n'
cat <<EOF
Next steps (hw/README.md, "Install on the Pi" and "Technician console"):
  1. Make the console PINs (6 to 12 digits; keep the technician PIN with the installer): run
     $CLI_LINK console hash-pin   once for the operator and once for the technician, and paste
     each hash into $CONF as [console] operator_pin_hash and technician_pin_hash.
  2. In $CONF serve the console: [hal.serial] ports = ["$GADGET_PORT"] (USB gadget on a Pi 4
     Model B, Zero 2 W or Pi 5; other boards: hw/README.md). With the pi backend the config is
     refused while a port is listed and technician_pin_hash is empty. Edit the rest for your build.
  3. sudo -u $SERVICE_USER $CLI_LINK config check $CONF
  4. sudo -u $SERVICE_USER $CLI_LINK doctor      (checks the wiring; energises nothing)
  5. Bench-test the hardware safety layers (hw/README.md), then:
     sudo systemctl enable --now $SERVICE; journalctl -u $SERVICE -f
  6. A latched fault: sudo $CLI_LINK faults; clear it on the console (login, reset).
EOF
