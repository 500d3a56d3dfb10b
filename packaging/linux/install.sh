#!/bin/sh
# Install this EventDesk folder for the current user, with no administrator rights:
#   the program       ~/.local/lib/eventdesk/      (EVENTDESK_PREFIX replaces ~/.local)
#   the command       ~/.local/bin/eventdesk
#   the menu entry    ~/.local/share/applications/eventdesk.desktop, icons in ~/.local/share/icons
# `./install.sh --uninstall` removes those again. The data folder (~/.local/share/EventDesk)
# is never touched by either.
set -eu

here=$(cd "$(dirname "$0")" && pwd -P)
prefix=${EVENTDESK_PREFIX:-$HOME/.local}
app=$prefix/lib/eventdesk
bin=$prefix/bin
share=${XDG_DATA_HOME:-$HOME/.local/share}
menu=$share/applications
icons=$share/icons/hicolor

remove_program() {
    # Only ever delete a folder that holds an EventDesk program.
    if [ -d "$app" ]; then
        if [ ! -x "$app/eventdesk" ] || [ ! -d "$app/_internal" ]; then
            echo "install.sh: $app is not an EventDesk folder; leaving it alone" >&2
            exit 1
        fi
        rm -rf "$app"
    fi
}

refresh_menus() {
    update-desktop-database "$menu" >/dev/null 2>&1 || true
    gtk-update-icon-cache -q -t "$icons" >/dev/null 2>&1 || true
}

if [ "${1:-}" = "--uninstall" ]; then
    remove_program
    [ -L "$bin/eventdesk" ] && rm -f "$bin/eventdesk"
    rm -f "$menu/eventdesk.desktop"
    find "$icons" -path '*/apps/eventdesk.*' -exec rm -f {} + 2>/dev/null || true
    refresh_menus
    echo "EventDesk removed. Its data stays in ${share}/EventDesk."
    exit 0
fi

if [ ! -x "$here/eventdesk" ] || [ ! -d "$here/_internal" ]; then
    echo "install.sh: run me from inside the unpacked EventDesk folder" >&2
    exit 1
fi

installed=""
[ -d "$app" ] && installed=$(cd "$app" && pwd -P)
if [ "$here" != "$installed" ]; then
    mkdir -p "$prefix/lib"
    rm -rf "$app.new"
    cp -a "$here" "$app.new"
    remove_program
    mv "$app.new" "$app"
fi

mkdir -p "$bin" "$menu"
ln -sf "$app/eventdesk" "$bin/eventdesk"

# The menu entry runs the program by its full path, so it works without ~/.local/bin on PATH.
while IFS= read -r line; do
    case $line in
        Exec=*) printf 'Exec="%s" gui\n' "$app/eventdesk" ;;
        *) printf '%s\n' "$line" ;;
    esac
done <"$here/eventdesk.desktop" >"$menu/eventdesk.desktop"

for png in "$app"/_internal/resources/icons/eventdesk-*.png; do
    size=${png##*/eventdesk-}
    size=${size%.png}
    [ "$size" -le 512 ] || continue
    mkdir -p "$icons/${size}x${size}/apps"
    cp "$png" "$icons/${size}x${size}/apps/eventdesk.png"
done
mkdir -p "$icons/scalable/apps"
cp "$app/_internal/resources/icons/eventdesk.svg" "$icons/scalable/apps/eventdesk.svg"
refresh_menus

echo "EventDesk installed in $app; the menu entry is EventDesk."
case ":$PATH:" in
    *":$bin:"*) echo "Run 'eventdesk --help' for the command line." ;;
    *) echo "Add $bin to PATH for the command line, or run $app/eventdesk directly." ;;
esac
