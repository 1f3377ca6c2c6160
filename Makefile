# Thin front over CMake + Ninja. Real logic lives in CMakeLists.txt and the tools.
SANITIZE ?= 0
ifeq ($(SANITIZE),1)
BUILD ?= build-asan
CMAKE_FLAGS += -DFSFAULT_SANITIZE=ON
else
BUILD ?= build
endif
JOBS ?= $(shell nproc)
CMAKE_FLAGS += -G Ninja
# UNITY=1: compile each folder as a few unity files (CMAKE_UNITY_BUILD), half the CPU time of a
# cold build; .ci/run sets it. Applies when a build directory is first configured.
UNITY ?= 0
UNITY_FLAGS := $(if $(filter 1,$(UNITY)),-DCMAKE_UNITY_BUILD=ON)
CMAKE_FLAGS += $(UNITY_FLAGS)
CTEST_FLAGS ?= --output-on-failure --timeout 600

KERNEL ?=
FILTER ?=
ACCEL ?=
VM_FLAGS := $(if $(KERNEL),--kernel $(KERNEL)) $(if $(FILTER),--filter '$(FILTER)') $(if $(ACCEL),--accel $(ACCEL))

.PHONY: all build deps ensure-deps test vm-test bench fuzz lint clean

all: build

deps:
	bash .ci/install-deps.sh

ensure-deps:
	@bash .ci/install-deps.sh --check 2>/dev/null || bash .ci/install-deps.sh

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS)

build: ensure-deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

test: build
	cd $(BUILD) && ctest $(CTEST_FLAGS) -j $(JOBS)

vm-test: build
	$(BUILD)/bin/fsfault vm-test --out $(BUILD)/vm-test --ktap $(BUILD)/vm-test/results.ktap --junit $(BUILD)/vm-test/results.xml $(VM_FLAGS)

# No function over 80 lines in the runner, front, harness, images, process and base layers.
lint: build
	bash .ci/function-size.sh $(BUILD)

bench: build
	bash bench/run-all.sh $(BUILD)

# Every libFuzzer target for FUZZ_SECONDS each (docs/reliability.md); exits
# non-zero on a crash, leak or timeout (reproducers in build-fuzz/fuzz-artifacts/).
FUZZ_SECONDS ?= 30
fuzz: ensure-deps
	cmake -S . -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang -DFSFAULT_FUZZ=ON $(UNITY_FLAGS)
	cmake --build build-fuzz --target fuzzers -j $(JOBS)
	bash fuzz/run-all.sh build-fuzz $(FUZZ_SECONDS)

clean:
	rm -rf build build-asan build-fuzz build-tsan
