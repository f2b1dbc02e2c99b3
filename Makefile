# psrec: `make run` trains on the embedded synthetic default, `make test` runs
# every test. Both install missing Debian packages first.
BUILD_DIR ?= build
FUZZ_BUILD_DIR ?= build-fuzz
FUZZ_SECONDS ?= 30
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=Release

.PHONY: all deps deploy-tools configure build run test test-unit test-integration test-deploy test-multihost test-security test-faults fuzz fuzz-build quality bench clean

all: build

deps:
	@./scripts/install-deps.sh

# The Kubernetes manifests' offline schema check: npm packages pinned by
# deploy/k8s/check/package-lock.json (needs node and npm; without them the
# test that uses them skips).
deploy-tools:
	@./scripts/install-k8s-check.sh $(BUILD_DIR)/k8s-check

$(BUILD_DIR)/build.ninja:
	cmake -S . -B $(BUILD_DIR) -G Ninja $(CMAKE_FLAGS) > /dev/null

configure: deps $(BUILD_DIR)/build.ninja

build: configure
	cmake --build $(BUILD_DIR) -j $(JOBS)

run: build
	$(BUILD_DIR)/psrec train

test: build deploy-tools
	rm -rf $(BUILD_DIR)/test-tmp && mkdir -p $(BUILD_DIR)/test-tmp
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) --timeout 600 -LE fault-long

test-unit: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) -L unit

test-integration: build
	cd $(BUILD_DIR) && ctest --output-on-failure -L integration

# deploy/: cluster.sh, the Kubernetes manifests (label `deploy`).
test-deploy: build deploy-tools
	cd $(BUILD_DIR) && ctest --output-on-failure -L deploy

# TLS, client certificates and the token between real processes (label `security`).
test-security: build
	cd $(BUILD_DIR) && ctest --output-on-failure -L security

# A cluster across network namespaces (needs root; label `multihost`).
test-multihost: build
	cd $(BUILD_DIR) && ctest --output-on-failure -L multihost

# Fault and fuzz tests: the fault tests (kill -9 a server, a worker, the coordinator
# at random points of runs; labels `fault` and the long, many-seed `fault-long`), the fuzz corpora (`fuzz`), then every libFuzzer target for
# FUZZ_SECONDS each.
test-faults: build
	cd $(BUILD_DIR) && ctest --output-on-failure -L 'fault|fault-long|fuzz' --timeout 1800
	$(MAKE) fuzz

# libFuzzer targets (tests/fuzz), built with clang, ASan and UBSan in their
# own build directory; `FUZZ_SECONDS=600 scripts/run-fuzzers.sh npy` runs one longer.
fuzz: fuzz-build
	FUZZ_BUILD_DIR=$(FUZZ_BUILD_DIR) FUZZ_SECONDS=$(FUZZ_SECONDS) ./scripts/run-fuzzers.sh

$(FUZZ_BUILD_DIR)/build.ninja:
	cmake -S . -B $(FUZZ_BUILD_DIR) -G Ninja -DPSREC_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++-14 > /dev/null

fuzz-build: deps
	@./scripts/install-fuzz-deps.sh
	$(MAKE) $(FUZZ_BUILD_DIR)/build.ninja
	cmake --build $(FUZZ_BUILD_DIR) -j $(JOBS) --target psrec_fuzzers

# Full-quality MovieLens runs whose figures go into README.md.
quality: build
	./scripts/quality.sh

# Benchmarks (bench/): one JSON line per case; never part of `make test`.
bench: build
	@./scripts/install-bench-deps.sh
	$(BUILD_DIR)/bench/psrec_wire_bench --psrec=$(BUILD_DIR)/psrec
	$(BUILD_DIR)/bench/psrec_table_memory_bench --rows=10000000
	./bench/e2e_neumf.sh
	./bench/e2e_neumf.sh
	./bench/mf_scale.sh --scale

clean:
	rm -rf $(BUILD_DIR) $(FUZZ_BUILD_DIR)
