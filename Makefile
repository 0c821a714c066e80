# maskjit — the two commands a user needs:
#   make demo   install missing packages, build, run the main job on the built-in example
#   make test   install missing packages, build (normal + ASan/UBSan), run every test
# Other targets: build, asan, fuzz, test-nollvm, clean.
JOBS   ?= $(shell nproc)
BUILD  ?= build
ASAN   ?= build-asan
FUZZ   ?= build-fuzz
NOLLVM ?= build-nollvm
FUZZ_SECONDS ?= 30

.PHONY: all deps build asan test test-unit test-asan test-nollvm fuzz demo clean bench

all: build

deps:
	@bash scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

asan: deps
	@cmake -S . -B $(ASAN) -DCMAKE_BUILD_TYPE=Debug -DMJ_SANITIZE=ON >/dev/null
	@cmake --build $(ASAN) -j $(JOBS)

test: build asan
	@MJ_PY_ORACLES=1 bash scripts/install-deps.sh
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	cd $(ASAN) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -L unit -j $(JOBS)
	@$(MAKE) --no-print-directory test-nollvm
	@$(MAKE) --no-print-directory fuzz

# The CLI built without LLVM (as on the GPU machines), compared with the LLVM build's.
test-nollvm: build
	@cmake -S . -B $(NOLLVM) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMJ_WITH_LLVM=OFF \
	  -DMJ_REFERENCE_MASKJIT=$(abspath $(BUILD))/maskjit >/dev/null
	@cmake --build $(NOLLVM) -j $(JOBS) --target maskjit
	cd $(NOLLVM) && ctest --output-on-failure -R 'cli_(nollvm|compile|check|show)$$'

fuzz: deps
	@bash tests/fuzz/run.sh $(FUZZ) $(FUZZ_SECONDS)

demo: build
	@bash scripts/demo.sh $(BUILD)

bench: build
	@bash bench/cpu_bench.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN) $(FUZZ) $(NOLLVM)
