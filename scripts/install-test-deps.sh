#!/usr/bin/env bash
# Installs what the test suite needs on a fresh Debian machine, from Debian's archive only:
#   chromium                 the browser Playwright drives (launched by path; Playwright cannot download its own here)
#   fonts-arphic-gbsn00lp    a single-file CJK TrueType font (gbsn00lp.ttf) for PDF reports and page rendering
#   fonts-noto-cjk           Chinese glyphs for the browser's screenshots
#   poppler-utils            pdftotext / pdftoppm, to read the generated PDFs back
#   gstreamer + python3-gi   a third-party RTSP server (GStreamer's) for the camera tests
#   sip-tester               SIPp, a third-party SIP user agent for the intercom's interop tests (issue 11)
#   baresip-core             baresip without a GUI: a third-party SIP terminal dialling the alarm number (issue 11)
set -euo pipefail
packages=(chromium fonts-arphic-gbsn00lp fonts-noto-cjk poppler-utils
  python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-x gstreamer1.0-tools
  sip-tester baresip-core)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
