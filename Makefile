# hichat - a chat server and client in one C program.
#
#   make                 build build/hichat
#   make run             build and start a server on localhost:6666
#   make test            build and run every test (unit and end-to-end)
#   make test SANITIZE=1 the same under AddressSanitizer + UBSan (build/san/)
#   make bench           build build/hichat-bench (bench/compare runs it)
#   make install PREFIX=/usr/local
#   make format          clang-format the sources

CC       ?= cc
PREFIX   ?= /usr/local
VERSION  := 0.1

CFLAGS_BASE := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow \
               -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Wvla \
               -DHICHAT_VERSION=\"$(VERSION)\" -g
ifeq ($(SANITIZE),1)
BUILD  := build/san
CFLAGS := $(CFLAGS_BASE) -O1 -fno-omit-frame-pointer \
          -fsanitize=address,undefined -fno-sanitize-recover=all
LDFLAGS += -fsanitize=address,undefined
else
BUILD  := build
CFLAGS ?= -O2
CFLAGS := $(CFLAGS_BASE) $(CFLAGS)
endif

# The full-screen client (src/tui.c) uses ncurses' wide-character build.
CURSES_CFLAGS := $(shell pkg-config --cflags ncursesw 2>/dev/null)
CURSES_LIBS   := $(shell pkg-config --libs ncursesw 2>/dev/null || echo -lncursesw -ltinfo)
# TLS (src/tls.c) is OpenSSL's libssl.
SSL_LIBS      := $(shell pkg-config --libs openssl 2>/dev/null || echo -lssl -lcrypto)
# The nick rule (src/text.c) uses ICU's character properties, NFKC case
# folding and its confusables data (the UTS #39 skeleton).
ICU_CFLAGS    := $(shell pkg-config --cflags icu-uc icu-i18n 2>/dev/null)
ICU_LIBS      := $(shell pkg-config --libs icu-uc icu-i18n 2>/dev/null || echo -licui18n -licuuc -licudata)
LIBS          := $(CURSES_LIBS) $(SSL_LIBS) $(ICU_LIBS)

SRC      := $(wildcard src/*.c)
OBJ      := $(patsubst src/%.c,$(BUILD)/obj/%.o,$(SRC))
LIBOBJ   := $(filter-out $(BUILD)/obj/main.o,$(OBJ))
UNIT_SRC := $(wildcard tests/unit/*.c)
UNIT_OBJ := $(patsubst tests/unit/%.c,$(BUILD)/unit/%.o,$(UNIT_SRC))
BIN      := $(BUILD)/hichat
UNIT     := $(BUILD)/unit-tests

.PHONY: all run test unit e2e setup install uninstall clean format bench

all: $(BIN)

$(BUILD)/obj/%.o: src/%.c | $(BUILD)/obj
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/unit/%.o: tests/unit/%.c | $(BUILD)/unit
	$(CC) $(CFLAGS) -Isrc -Ibench -MMD -MP -c $< -o $@

$(BUILD)/obj/tui.o $(FUZZ_DIR)/obj/tui.o $(REPLAY_DIR)/obj/tui.o: CFLAGS += $(CURSES_CFLAGS)
$(BUILD)/obj/text.o: CFLAGS += $(ICU_CFLAGS)

$(BIN): $(OBJ)
	$(CC) $(LDFLAGS) $^ $(LIBS) -o $@

$(UNIT): $(UNIT_OBJ) $(LIBOBJ) $(BUILD)/bench/histo.o
	$(CC) $(LDFLAGS) $^ $(LIBS) -lm -o $@

# The load generator (bench/bench.c; see docs/performance.md).
BENCH := $(BUILD)/hichat-bench

bench: $(BENCH)

$(BUILD)/bench/%.o: bench/%.c | $(BUILD)/bench
	$(CC) $(CFLAGS) -Isrc -MMD -MP -c $< -o $@

$(BENCH): $(BUILD)/bench/bench.o $(BUILD)/bench/histo.o $(BUILD)/obj/util.o
	$(CC) $(LDFLAGS) $^ -lm -o $@

$(BUILD)/obj $(BUILD)/unit $(BUILD)/bench:
	mkdir -p $@

-include $(OBJ:.o=.d) $(UNIT_OBJ:.o=.d) $(BUILD)/bench/bench.d $(BUILD)/bench/histo.d

# Installs what building and testing need (apt-get as root; otherwise prints
# the command to run). Quick when everything is there.
setup:
	@scripts/setup

run: setup $(BIN)
	$(BIN) serve

test: setup $(BIN) $(UNIT) $(BENCH)
	@HICHAT=$(BIN) UNIT=$(UNIT) BENCH=$(BENCH) HICHAT_SANITIZE=$(SANITIZE) tests/run

unit: $(UNIT)
	$(UNIT)

e2e: setup $(BIN)
	HICHAT=$(BIN) python3 tests/e2e/run.py

install: $(BIN)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/hichat
	install -m 644 man/hichat.1 $(DESTDIR)$(PREFIX)/share/man/man1/hichat.1

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/hichat $(DESTDIR)$(PREFIX)/share/man/man1/hichat.1

format:
	clang-format -i src/*.c src/*.h tests/unit/*.c tests/unit/*.h bench/*.c

clean:
	rm -rf build

# ---- fuzzing (fuzz/) --------------------------------------------------------
# Three libFuzzer harnesses - fuzz_frame (line framing), fuzz_text (UTF-8,
# hygiene, nicks) and fuzz_server (the whole server from a byte script) - and
# a replay driver that runs their saved inputs without libFuzzer.
#
#   make fuzz [FUZZ_SECONDS=60]  builds them with clang (libFuzzer + ASan +
#                                UBSan) into build/fuzz/ and runs each for
#                                FUZZ_SECONDS on build/fuzz/corpus-NAME, seeded
#                                from fuzz/corpus/NAME; crashes are written to
#                                build/fuzz/crashes/ and fail the target
#   make fuzz-replay             runs fuzz/corpus/*/ and fuzz/regressions/*/
#                                through the harnesses built with $(CC) under
#                                ASan + UBSan; ends "fuzz: N passed, M failed"
FUZZ_CC       ?= clang
FUZZ_SECONDS  ?= 60
FUZZ_NAMES    := frame text server
FUZZ_DIR      := build/fuzz
REPLAY_DIR    := build/fuzz-replay
FUZZ_SAN      := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS   := $(CFLAGS_BASE) -O1 -fno-omit-frame-pointer $(FUZZ_SAN) $(ICU_CFLAGS)
# clang's -Wformat=2 also flags vsnprintf(fmt) in a helper that lacks a
# format attribute (src/dialect_text.c vline); gcc does not.
FUZZ_CLANG_WARN := -Wno-format-nonliteral
FUZZ_LIBSRC   := $(filter-out src/main.c,$(SRC))
FUZZ_LIBOBJ   := $(patsubst src/%.c,$(FUZZ_DIR)/obj/%.o,$(FUZZ_LIBSRC))
REPLAY_LIBOBJ := $(patsubst src/%.c,$(REPLAY_DIR)/obj/%.o,$(FUZZ_LIBSRC))
FUZZ_BINS     := $(FUZZ_NAMES:%=$(FUZZ_DIR)/fuzz_%)
REPLAY_BINS   := $(FUZZ_NAMES:%=$(REPLAY_DIR)/replay-%)

.PHONY: fuzz fuzz-build fuzz-replay

fuzz: setup $(FUZZ_BINS)
	@FUZZ_SECONDS=$(FUZZ_SECONDS) fuzz/run-fuzz $(FUZZ_DIR) $(FUZZ_NAMES)

fuzz-build: $(FUZZ_BINS) $(REPLAY_BINS)

fuzz-replay: $(REPLAY_BINS)
	@fuzz/run-replay $(REPLAY_DIR) $(FUZZ_NAMES)

# libFuzzer: the library instrumented for coverage, the harness linked with
# libFuzzer's main().
$(FUZZ_DIR)/obj/%.o: src/%.c | $(FUZZ_DIR)/obj
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_CLANG_WARN) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

$(FUZZ_DIR)/fuzz_%: fuzz/fuzz_%.c fuzz/fuzz.h $(FUZZ_LIBOBJ)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_CLANG_WARN) -fsanitize=fuzzer -Isrc $< $(FUZZ_LIBOBJ) \
	    $(LIBS) -o $@

# Replay: the same harness with fuzz/replay.c's main(), any C compiler.
$(REPLAY_DIR)/obj/%.o: src/%.c | $(REPLAY_DIR)/obj
	$(CC) $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@

$(REPLAY_DIR)/replay-%: fuzz/fuzz_%.c fuzz/replay.c fuzz/fuzz.h $(REPLAY_LIBOBJ)
	$(CC) $(FUZZ_CFLAGS) -Isrc fuzz/fuzz_$*.c fuzz/replay.c $(REPLAY_LIBOBJ) $(LIBS) -o $@

$(FUZZ_DIR)/obj:
	@command -v $(FUZZ_CC) >/dev/null || { echo "make fuzz: needs $(FUZZ_CC) and libFuzzer" \
	    "(Debian: apt-get install clang libclang-rt-14-dev)" >&2; exit 1; }
	mkdir -p $@

$(REPLAY_DIR)/obj:
	mkdir -p $@

-include $(FUZZ_LIBOBJ:.o=.d) $(REPLAY_LIBOBJ:.o=.d)
# ---- end of fuzzing ---------------------------------------------------------
