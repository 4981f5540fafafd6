#!/usr/bin/env bash
# Vendor the front-end libraries into guanai/web/static/vendor/.
#
# Why vendored: the platform runs on government intranets (政务外网) with no CDN, so every file the
# browser loads is served by us. Only the minified files a page needs are copied, each with its licence,
# and VERSIONS.txt records what was copied so a reviewer can check it against the registry.
#
# Idempotent: the same pinned versions give byte-identical output, so re-running shows no diff.
# Tarballs are verified against the registry's sha512 integrity pinned below before use; a tarball
# already downloaded into $GUANAI_NPM_CACHE (default /tmp/npmget) is reused, otherwise `npm pack`
# fetches it. To upgrade: change a version and its integrity (`npm view NAME@VERSION dist.integrity`).
#
# Source-map comments are stripped: the .map files are not vendored, and WhiteNoise's
# CompressedManifestStaticFilesStorage fails collectstatic on a sourceMappingURL it cannot resolve.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
destination="$repo_root/guanai/web/static/vendor"
npm_cache="${GUANAI_NPM_CACHE:-/tmp/npmget}"

# spec|sha512 integrity from the npm registry
packages=(
    "bootstrap@5.3.8|sha512-HP1SZDqaLDPwsNiqRqi5NcP0SSXciX2s9E+RyqJIIqGo+vJeN5AJVM98CXmW/Wux0nQ5L7jeWUdplCEf0Ee+tg=="
    "htmx.org@2.0.7|sha512-YiJqF3U5KyO28VC5mPfehKJPF+n1Gni+cupK+D69TF0nm7wY6AXn3a4mPWIikfAXtl1u1F1+ZhSCS7KT8pVmqA=="
    "echarts@5.6.0|sha512-oTbVTsXfKuEhxftHqL5xprgLoc0k7uScAwtryCgWF6hPYFLRwOUHiFmHGCBKP5NPFNkDVopOieyUqYGH8Fa3kA=="
    # Popper is compiled into bootstrap.bundle.min.js; fetched only for its MIT licence text.
    "@popperjs/core@2.11.8|sha512-P1st0aksCrn9sGZhp8GMYwBnQsbvAWsZAX44oXNNvLHGqAOcoVxmjZiohstwQ7SqKnbR47akdNi+uleWD8+g6A=="
)

# spec|path inside the tarball|path under vendor/
files=(
    "bootstrap@5.3.8|package/dist/css/bootstrap.min.css|bootstrap/bootstrap.min.css"
    "bootstrap@5.3.8|package/dist/js/bootstrap.bundle.min.js|bootstrap/bootstrap.bundle.min.js"
    "bootstrap@5.3.8|package/LICENSE|bootstrap/LICENSE"
    "@popperjs/core@2.11.8|package/LICENSE.md|bootstrap/LICENSE-popper.md"
    "htmx.org@2.0.7|package/dist/htmx.min.js|htmx/htmx.min.js"
    "htmx.org@2.0.7|package/LICENSE|htmx/LICENSE"
    "echarts@5.6.0|package/dist/echarts.min.js|echarts/echarts.min.js"
    "echarts@5.6.0|package/LICENSE|echarts/LICENSE"
    # Apache-2.0 §4(d): the NOTICE travels with the work; the full build embeds parts of d3 (BSD-3-Clause).
    "echarts@5.6.0|package/NOTICE|echarts/NOTICE"
    "echarts@5.6.0|package/licenses/LICENSE-d3|echarts/LICENSE-d3"
)

for tool in npm node tar sha256sum sed; do
    command -v "$tool" >/dev/null || { echo "vendor_static: '$tool' is required" >&2; exit 1; }
done

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# npm names a scoped package's tarball without the @ and with - for / (@popperjs/core -> popperjs-core).
tarball_name() {
    local spec="$1" name version
    name="${spec%@*}"
    version="${spec##*@}"
    name="${name#@}"
    echo "${name//\//-}-${version}.tgz"
}

sha512_integrity() {
    node -e 'const c=require("crypto"),f=require("fs");
             process.stdout.write("sha512-"+c.createHash("sha512").update(f.readFileSync(process.argv[1])).digest("base64"))' "$1"
}

fetch() {
    local spec="$1" integrity="$2" name tarball
    name="$(tarball_name "$spec")"
    tarball="$work/$name"
    if [[ -f "$npm_cache/$name" ]]; then
        cp "$npm_cache/$name" "$tarball"
    else
        (cd "$work" && npm pack "$spec" --silent --ignore-scripts --pack-destination "$work" >/dev/null)
    fi
    if [[ "$(sha512_integrity "$tarball")" != "$integrity" ]]; then
        echo "vendor_static: $name does not match the pinned integrity; refusing to vendor it" >&2
        exit 1
    fi
    mkdir -p "$work/${name%.tgz}"
    tar -xzf "$tarball" -C "$work/${name%.tgz}" --no-same-owner
}

declare -A licence_of=()
for entry in "${packages[@]}"; do
    spec="${entry%%|*}"
    fetch "$spec" "${entry#*|}"
    licence_of[$spec]="$(node -p 'require(process.argv[1]).license' "$work/$(tarball_name "$spec" | sed 's/\.tgz$//')/package/package.json")"
done

# Build the new tree beside the old one, then swap, so a failure never leaves a half-vendored directory.
staging="$work/vendor"
mkdir -p "$staging"
for entry in "${files[@]}"; do
    IFS='|' read -r spec source target <<<"$entry"
    unpacked="$work/$(tarball_name "$spec" | sed 's/\.tgz$//')"
    mkdir -p "$(dirname "$staging/$target")"
    # Drop "//# sourceMappingURL=..." and "/*# sourceMappingURL=... */" lines (see the header).
    sed -E '/^[[:space:]]*(\/\/|\/\*)[[:space:]]*[#@][[:space:]]*sourceMappingURL=/d' \
        "$unpacked/$source" >"$staging/$target"
done

if leftover="$(grep -rl sourceMappingURL "$staging")"; then
    echo "vendor_static: sourceMappingURL still present in: $leftover" >&2
    exit 1
fi

{
    echo "# Vendored front-end files. Written by scripts/vendor_static.sh; do not edit by hand."
    echo "# package@version  licence  sha256  file (under guanai/web/static/vendor/)"
    echo "# Source-map comments are stripped from the .js/.css files, so their sha256 differs from the tarball's."
    for entry in "${files[@]}"; do
        IFS='|' read -r spec source target <<<"$entry"
        printf '%s  %s  %s  %s\n' "$spec" "${licence_of[$spec]}" \
            "$(sha256sum "$staging/$target" | cut -d' ' -f1)" "$target"
    done
} >"$staging/VERSIONS.txt"

mkdir -p "$(dirname "$destination")"
rm -rf "$destination.old"
if [[ -d "$destination" ]]; then
    mv "$destination" "$destination.old"
fi
mv "$staging" "$destination"
rm -rf "$destination.old"
chmod -R u=rwX,go=rX "$destination"

echo "vendor_static: wrote $(find "$destination" -type f | wc -l) files into ${destination#"$repo_root"/}"
