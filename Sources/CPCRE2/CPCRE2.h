// Shim for libpcre2-8. pcre2.h refuses to compile without a code unit width, and its
// public names (pcre2_compile, pcre2_code, ...) are token-pasting macros that Swift cannot
// import, so the helpers below give Swift plain functions for the 8-bit library.
#ifndef MESHGATE_CPCRE2_H
#define MESHGATE_CPCRE2_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdint.h>
#include <stddef.h>

typedef pcre2_code_8 cpcre2_code;
typedef pcre2_match_data_8 cpcre2_match_data;
typedef pcre2_match_context_8 cpcre2_match_context;
typedef pcre2_compile_context_8 cpcre2_compile_context;
typedef pcre2_jit_stack_8 cpcre2_jit_stack;

/// Compiles `length` bytes of UTF-8 pattern text; on failure returns NULL and fills the error code and offset.
static inline cpcre2_code *cpcre2_compile(const uint8_t *pattern, size_t length, uint32_t options,
                                          int *error_code, size_t *error_offset) {
    return pcre2_compile_8((PCRE2_SPTR8)pattern, (PCRE2_SIZE)length, options, error_code,
                           (PCRE2_SIZE *)error_offset, NULL);
}

static inline void cpcre2_code_free(cpcre2_code *code) { pcre2_code_free_8(code); }

/// Returns 0 on success, a negative PCRE2 error code otherwise (PCRE2_ERROR_JIT_BADOPTION: no JIT in this build).
static inline int cpcre2_jit_compile_complete(cpcre2_code *code) {
    return pcre2_jit_compile_8(code, PCRE2_JIT_COMPLETE);
}

/// Whether this libpcre2 was built with JIT support (and it is usable on this CPU).
static inline int cpcre2_jit_available(void) {
    uint32_t jit = 0;
    if (pcre2_config_8(PCRE2_CONFIG_JIT, &jit) < 0) return 0;
    return jit != 0;
}

/// Size of the JIT code for a compiled pattern; 0 means the interpreter will be used.
static inline size_t cpcre2_jit_size(const cpcre2_code *code) {
    size_t size = 0;
    if (pcre2_pattern_info_8(code, PCRE2_INFO_JITSIZE, &size) != 0) return 0;
    return size;
}

/// Writes PCRE2's message for `error_code` into `buffer`; returns its length or a negative code.
static inline int cpcre2_error_message(int error_code, uint8_t *buffer, size_t buffer_length) {
    return pcre2_get_error_message_8(error_code, (PCRE2_UCHAR8 *)buffer, (PCRE2_SIZE)buffer_length);
}

static inline cpcre2_match_data *cpcre2_match_data_create(const cpcre2_code *code) {
    return pcre2_match_data_create_from_pattern_8(code, NULL);
}

static inline void cpcre2_match_data_free(cpcre2_match_data *data) { pcre2_match_data_free_8(data); }

static inline cpcre2_match_context *cpcre2_match_context_create(void) {
    return pcre2_match_context_create_8(NULL);
}

static inline void cpcre2_match_context_free(cpcre2_match_context *context) {
    pcre2_match_context_free_8(context);
}

/// Applies the match, depth and heap (KiB) limits to a match context.
static inline void cpcre2_match_context_set_limits(cpcre2_match_context *context, uint32_t match_limit,
                                                   uint32_t depth_limit, uint32_t heap_limit_kib) {
    pcre2_set_match_limit_8(context, match_limit);
    pcre2_set_depth_limit_8(context, depth_limit);
    pcre2_set_heap_limit_8(context, heap_limit_kib);
}

static inline cpcre2_jit_stack *cpcre2_jit_stack_create(size_t start_size, size_t max_size) {
    return pcre2_jit_stack_create_8((PCRE2_SIZE)start_size, (PCRE2_SIZE)max_size, NULL);
}

static inline void cpcre2_jit_stack_free(cpcre2_jit_stack *stack) { pcre2_jit_stack_free_8(stack); }

/// Makes JIT matches that use `context` run on `stack` instead of the default 32 KiB machine stack.
static inline void cpcre2_jit_stack_assign(cpcre2_match_context *context, cpcre2_jit_stack *stack) {
    pcre2_jit_stack_assign_8(context, NULL, stack);
}

/// Runs a match from `start_offset`. Returns what pcre2_match returns: >= 0 on a match, PCRE2_ERROR_NOMATCH, or an error.
/// `subject` may be NULL only when `length` is 0 (a dummy pointer is substituted, as older PCRE2 rejects NULL).
static inline int cpcre2_match(const cpcre2_code *code, const uint8_t *subject, size_t length, size_t start_offset,
                               uint32_t options, cpcre2_match_data *data, cpcre2_match_context *context) {
    static const uint8_t empty[1] = {0};
    if (subject == NULL) subject = empty;
    return pcre2_match_8(code, (PCRE2_SPTR8)subject, (PCRE2_SIZE)length, (PCRE2_SIZE)start_offset, options, data,
                         context);
}

/// The whole-match range of the last successful match: ovector[0] and ovector[1].
static inline void cpcre2_match_range(cpcre2_match_data *data, size_t *start, size_t *end) {
    PCRE2_SIZE *ovector = pcre2_get_ovector_pointer_8(data);
    *start = (size_t)ovector[0];
    *end = (size_t)ovector[1];
}

#endif
