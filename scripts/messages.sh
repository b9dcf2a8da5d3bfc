#!/usr/bin/env bash
# Refresh and compile the zh-hans catalogues: one per app (kehu/<app>/locale) and one for the
# project-level strings (kehu/locale: settings and the API's error messages).
set -euo pipefail
cd "$(dirname "$0")/.."
kehu="$PWD/.venv/bin/kehu"
apps=()
for locale in kehu/*/locale; do
    apps+=("$(basename "$(dirname "$locale")")")
done
ignores=()
for app in "${apps[@]}"; do
    ignores+=(--ignore "$app/*")
    (cd "kehu/$app" && "$kehu" makemessages -l zh_Hans --no-location --no-obsolete -v0)
done
(cd kehu && "$kehu" makemessages -l zh_Hans --no-location --no-obsolete -v0 "${ignores[@]}")
for directory in kehu "${apps[@]/#/kehu/}"; do
    # compilemessages skips a .po whose .mo looks newer by time stamp; always rebuild.
    touch "$directory/locale/zh_Hans/LC_MESSAGES/django.po"
    (cd "$directory" && "$kehu" compilemessages -l zh_Hans -v0)
done
untranslated=$(for po in kehu/locale/zh_Hans/LC_MESSAGES/django.po kehu/*/locale/zh_Hans/LC_MESSAGES/django.po; do
    echo "$po $(msgattrib --untranslated --no-obsolete "$po" | grep -c '^msgid' || true)"
done | awk '$2 > 1')
if [ -n "$untranslated" ]; then
    echo "Untranslated strings (fill them, then run make messages again):"
    echo "$untranslated"
fi
