# psrec: `make run` trains on the embedded synthetic default, `make test` runs
# every test. Both install missing Debian packages first.
BUILD_DIR ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=Release

.PHONY: all deps deploy-tools configure build run test test-unit test-integration test-deploy test-multihost test-faults quality bench clean

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
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) --timeout 600 -LE fault-long

# Fault tests (kill -9 of servers), short and many-seed versions.
test-faults: build
	cd $(BUILD_DIR) && ctest --output-on-failure --timeout 900 -L 'fault'

test-unit: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) -L unit

test-integration: build
	cd $(BUILD_DIR) && ctest --output-on-failure -L integration

# deploy/: cluster.sh, the Kubernetes manifests (label `deploy`).
test-deploy: build deploy-tools
	cd $(BUILD_DIR) && ctest --output-on-failure -L deploy

# A cluster across network namespaces (needs root; label `multihost`).
test-multihost: build
	cd $(BUILD_DIR) && ctest --output-on-failure -L multihost

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

clean:
	rm -rf $(BUILD_DIR)
