# The two commands the README leads with:
#   make demo    installs what is missing, builds, runs the demo on the sandbox
#   make check   installs what is missing, builds (ASan+UBSan), runs every test
# and `make` alone builds.  Everything else is meson/ninja underneath.
# OVN=RELEASE (23.03, 25.03, 26.03 or a Debian suite) runs `check`, `bench`
# and `demo` on the OVS/OVN of that release (osn-sandbox up --ovn) and builds
# `image-ovn` from it; empty (the default) means the host's.
OVN         ?=
BUILD       ?= build
CHECK_BUILD ?= build-check
MESON_FLAGS ?=

.PHONY: all deps build demo check compat unit bench fuzz format clean image image-ovn

all: build

deps:
	@scripts/deps.sh

$(BUILD)/build.ninja:
	meson setup $(BUILD) --buildtype=release $(MESON_FLAGS)

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

$(CHECK_BUILD)/build.ninja:
	meson setup $(CHECK_BUILD) -Db_sanitize=address,undefined -Db_lundef=false $(MESON_FLAGS)

demo: build
	OSN_OVN=$(OVN) OSN_BUILD=$(CURDIR)/$(BUILD) sandbox/demo.sh

check: deps $(CHECK_BUILD)/build.ninja
	ninja -C $(CHECK_BUILD)
	OSN_OVN=$(OVN) OSN_BUILD=$(CURDIR)/$(CHECK_BUILD) tests/run.sh $(CHECK_BUILD)

# The compatibility table of the README: the core suites on every release.
compat: deps $(CHECK_BUILD)/build.ninja
	ninja -C $(CHECK_BUILD)
	tests/compat.sh $(CHECK_BUILD)

unit: deps $(CHECK_BUILD)/build.ninja
	ninja -C $(CHECK_BUILD)
	OSN_BUILD=$(CURDIR)/$(CHECK_BUILD) tests/run.sh $(CHECK_BUILD) --suite unit

# The node image (docs/install.md): static binaries from their own build,
# written as an OCI image layout tarball by scripts/mkimage.sh.
IMAGE_BUILD ?= build-static
IMAGE       ?= $(IMAGE_BUILD)/osn-node.oci.tar

$(IMAGE_BUILD)/build.ninja:
	meson setup $(IMAGE_BUILD) --buildtype=release -Dstatic=true $(MESON_FLAGS)

image: deps $(IMAGE_BUILD)/build.ninja
	ninja -C $(IMAGE_BUILD) src/plugin/ovn-kubernetes src/osnctl/osnctl deploy/installer/osn-install
	scripts/mkimage.sh $(IMAGE_BUILD) $(IMAGE)

# osn's own OVN (deploy/ovn/): Debian's OVN packages as an OCI tarball.
image-ovn: deps
	mkdir -p $(IMAGE_BUILD)
	OSN_OVN=$(OVN) scripts/mkimage-ovn.sh $(IMAGE_BUILD)/osn-ovn.oci.tar

bench: build
	OSN_OVN=$(OVN) OSN_BUILD=$(CURDIR)/$(BUILD) bench/run.sh

fuzz: deps
	CC=clang meson setup build-fuzz -Dfuzzing=true -Db_lundef=false 2>/dev/null || true
	ninja -C build-fuzz
	tests/fuzz/run.sh build-fuzz

format:
	clang-format -i src/*/*.c src/*/*.h tests/unit/*.c tests/fuzz/*.c

clean:
	rm -rf $(BUILD) $(CHECK_BUILD) $(IMAGE_BUILD) build-fuzz
