# hichat - a chat server and client in one C program.
#
#   make                 build build/hichat
#   make run             build and start a server on localhost:6666
#   make test            build and run every test (unit and end-to-end)
#   make test SANITIZE=1 the same under AddressSanitizer + UBSan (build/san/)
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

SRC      := $(wildcard src/*.c)
OBJ      := $(patsubst src/%.c,$(BUILD)/obj/%.o,$(SRC))
LIBOBJ   := $(filter-out $(BUILD)/obj/main.o,$(OBJ))
UNIT_SRC := $(wildcard tests/unit/*.c)
UNIT_OBJ := $(patsubst tests/unit/%.c,$(BUILD)/unit/%.o,$(UNIT_SRC))
BIN      := $(BUILD)/hichat
UNIT     := $(BUILD)/unit-tests

.PHONY: all run test unit e2e setup install uninstall clean format

all: $(BIN)

$(BUILD)/obj/%.o: src/%.c | $(BUILD)/obj
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/unit/%.o: tests/unit/%.c | $(BUILD)/unit
	$(CC) $(CFLAGS) -Isrc -MMD -MP -c $< -o $@

$(BIN): $(OBJ)
	$(CC) $(LDFLAGS) $^ -o $@

$(UNIT): $(UNIT_OBJ) $(LIBOBJ)
	$(CC) $(LDFLAGS) $^ -o $@

$(BUILD)/obj $(BUILD)/unit:
	mkdir -p $@

-include $(OBJ:.o=.d) $(UNIT_OBJ:.o=.d)

# Installs what building and testing need (apt-get as root; otherwise prints
# the command to run). Quick when everything is there.
setup:
	@scripts/setup

run: setup $(BIN)
	$(BIN) serve

test: setup $(BIN) $(UNIT)
	@HICHAT=$(BIN) UNIT=$(UNIT) tests/run

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
	clang-format -i src/*.c src/*.h tests/unit/*.c tests/unit/*.h

clean:
	rm -rf build
