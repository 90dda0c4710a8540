#!/usr/bin/env bash
# Set up a fresh Debian/Ubuntu machine for OneWindow: system packages, then a venv in .venv.
# Safe to run again: it installs only what is missing. Sourced by ./run-hall and ./run-tests.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"

APT_PACKAGES=(
  python3 python3-venv python3-dev gcc           # the venv, and compilers for pyscard
  swig libpcsclite-dev pcscd vsmartcard-vpcd     # social security cards over PC/SC (+ virtual reader for tests)
  mosquitto mosquitto-clients openssl            # the production broker (and its TLS certificates)
  xvfb xauth libgl1 libmtdev1 xclip              # Kivy windows (and a virtual screen for tests)
  xdotool imagemagick                            # tests: real pointer touches and screenshots; the kiosk's pinyin letter pad
  chromium chromium-driver                       # tests: the QR pages in headless Chromium (Selenium)
  fonts-noto-cjk                                 # Chinese on screens and ticket previews
  fonts-wqy-microhei                             # Chinese in the PDF reports (TrueType outlines)
  fonts-noto-core fonts-tibetan-machine          # Tibetan on screens (Noto Serif Tibetan; fallback)
  libfribidi0                                    # Pillow's libraqm layout (bundled) loads it: shaped Tibetan tickets
  poppler-utils                                  # tests: pdftotext / pdffonts read the PDF reports
  zbar-tools                                     # tests: zbarimg scans the printed entrance QR code
  cups-daemon cups-client cups-ipp-utils         # A4 forms through CUPS (lp; ipptool asks a job's end state); tests run a private cupsd
  fcitx5 fcitx5-chinese-addons dbus-daemon       # pinyin input (the console's and the kiosk form's Chinese fields; tested)
  espeak-ng sox alsa-utils                       # offline voice: clip making, checks, playback
  debhelper dh-virtualenv debootstrap lintian    # the .deb: scripts/build-deb, scripts/test-deb-clean-root
  postgresql iproute2                            # the city: its database; tests cut links in netns
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "onewindow setup: installing system packages: ${missing[*]}"
  sudo=""
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || { echo "need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
    sudo="sudo"
  fi
  $sudo apt-get update -qq
  # a broker the package starts on its own is not wanted here: tests and the demo start their own
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [[ ! -x .venv/bin/python ]]; then
  echo "onewindow setup: creating .venv"
  # Debian's own Python (the one apt just equipped with venv and headers), not whatever python3
  # comes first on PATH: a venv built on a per-user Python breaks for the service users
  py=/usr/bin/python3
  [[ -x $py ]] || py=python3
  "$py" -m venv .venv
fi
stamp=.venv/.onewindow-installed
if [[ ! -f $stamp || setup.py -nt $stamp ]]; then
  echo "onewindow setup: installing Python packages into .venv"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".[ui,pcsc,test,city]"
  touch "$stamp"
fi
