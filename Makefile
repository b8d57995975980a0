# camgate: two commands. Each works on a fresh Debian machine with Python 3.11.
#   make demo   run the broker with the simulated New Canaan district (PORT=8080 by default)
#   make test   lint and run every test (PostgreSQL tests too when CAMGATE_TEST_DATABASE_URL is set)

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum < pyproject.toml | cut -d' ' -f1)
FONT   := /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf
OIDC   := tests/oidc/node_modules/.package-lock.json
AXE    := tests/console/node_modules/.package-lock.json
APT    := $(shell [ "$$(id -u)" = 0 ] && echo apt-get || echo sudo apt-get)

.PHONY: demo test lint bench system-deps console browser rtsp-server clean
CONSOLE := broker/console
VENDOR  := $(CONSOLE)/static/vendor

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import ensurepip, venv' 2>/dev/null || { $(APT) update -q && $(APT) install -y -q python3-venv; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@rm -f $(VENV)/.installed-* && touch $@

# The sign-in tests run a third-party OpenID Connect provider (oidc-provider, pinned in tests/oidc/package-lock.json).
$(OIDC): tests/oidc/package-lock.json tests/oidc/package.json
	cd tests/oidc && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# The console's accessibility tests inject axe-core (pinned in tests/console/package-lock.json) into each page.
$(AXE): tests/console/package-lock.json tests/console/package.json
	cd tests/console && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# The demo video burns camera names into the picture: ffmpeg's drawtext needs a font.
system-deps:
	@test -f $(FONT) || { $(APT) update -q && $(APT) install -y -q fonts-dejavu-core; }

# The web console's front-end dependencies: npm ci from the lock file, then the dist files it serves copied into
# the git-ignored static/vendor/ (nothing third-party committed, nothing fetched at run time).
console: $(VENDOR)/hls.mjs
$(VENDOR)/hls.mjs: $(CONSOLE)/package-lock.json
	@command -v npm >/dev/null || { $(APT) update -q && $(APT) install -y -q npm; }
	cd $(CONSOLE) && npm ci --no-audit --no-fund --loglevel=error
	mkdir -p $(VENDOR) && cp $(CONSOLE)/node_modules/hls.js/dist/hls.min.mjs $@

# The browser tests drive Debian's Chromium (never a downloaded browser).
browser:
	@test -x /usr/bin/chromium || { $(APT) update -q && $(APT) install -y -q chromium; }

# RTSP cameras in tests (and the demo) are served by GStreamer's RTSP server, run by Debian's python3 (python3-gi).
GST_CHECK := /usr/bin/python3 -c "import gi; gi.require_version('GstRtspServer', '1.0'); from gi.repository import Gst, GstRtspServer; Gst.init(None); assert all(Gst.ElementFactory.find(e) for e in ('udpsrc', 'rtpjitterbuffer', 'rtph264depay', 'h264parse', 'rtph264pay'))"
rtsp-server:
	@$(GST_CHECK) 2>/dev/null || { $(APT) update -q && $(APT) install -y -q python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad && $(GST_CHECK); }

demo: $(STAMP) system-deps console rtsp-server
	CAMGATE_MODE=dev $(BIN)/camgate demo $(if $(PORT),--port $(PORT))

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy broker adapters

# Two pytest workers, each test module whole on one (its module fixtures, a broker or a browser, start once);
# the rigs (tests/rigs: a broker made to lose its store under fifty ffmpeg viewers, bounds of a second) run
# after them on their own, so no other test takes their CPU. Both runs always run; either failing fails.
test: $(STAMP) system-deps console browser rtsp-server $(OIDC) $(AXE) lint
	$(BIN)/pytest -q -n 2 --dist loadfile -m 'not rig'; rest=$$?; $(BIN)/pytest -q -m rig && exit $$rest

bench: $(STAMP) system-deps console browser rtsp-server
	$(BIN)/python bench/load.py
	$(BIN)/python bench/decisions.py
	$(BIN)/python bench/proxy.py
	$(BIN)/python bench/viewers.py
	$(BIN)/python bench/audit.py
	$(BIN)/python bench/proof.py
	$(BIN)/python bench/emergency.py
	$(BIN)/python bench/gateway.py
	$(BIN)/python bench/console.py

clean:
	rm -rf $(VENV) .camgate .pytest_cache .ruff_cache $(CONSOLE)/node_modules $(VENDOR) test-screenshots tests/oidc/node_modules tests/console/node_modules
