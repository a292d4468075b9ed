#!/usr/bin/env bash
# The console's pictures in docs/ (admin-index.png, admin-event.png, dashboard.png), taken by
# the browser test itself: headless Chromium at 1366 x 768 signs in as the demo admin over the
# demo data (a month of box office booked through the services at its past times,
# evently/demo.py) and walks the console (tests/browser/test_console.py); and checkin-desk.png,
# a scanner's scan at the check-in desk (tests/browser/test_checkin_desk.py); and landing.png,
# the front page at / (tests/browser/test_no_other_host.py); and checkout-pay.png, a checkout's
# payment page with the dummy provider's form (tests/browser/test_checkout_page.py). The same runs
# check every page they picture, so a picture in docs/ is of a page that passed.
# scripts/test.sh installs Debian's chromium and chromium-driver first if they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."
export EVENTLY_SCREENSHOTS="${EVENTLY_SCREENSHOTS:-docs}"
exec bash scripts/test.sh tests/browser/test_console.py tests/browser/test_checkin_desk.py \
  tests/browser/test_no_other_host.py tests/browser/test_checkout_page.py -q \
  -k "staff_use_the_console or checks_people_in or fetches_anything or pays_a_checkout" "$@"
