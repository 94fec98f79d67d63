#pragma once
// Whole-file writes that readers and crashes never see half done: the
// content goes to a temporary file beside the target, which is synced and
// then renamed over it. A reader opening the path sees the old or the new
// content, never a mix; after a crash the path holds one of the two.
//
// Both functions block on disk I/O: call them from a detached actor or a
// blocking pool. They are thread-safe, but two concurrent writers of one
// path race (the last rename wins).

#include <string>
#include <string_view>

#include <caf/error.hpp>
#include <caf/expected.hpp>

namespace engram::exports {

/// Replaces the file at `path` with `content`, creating missing parent
/// directories. Steps: write `<dir>/.<name>.tmp-<unique>` (mode 0644 less
/// the umask), fsync it, rename it to `path`, fsync the directory, so the
/// new content survives a crash once this returns without error. On failure
/// returns ec::storage_failure naming the path and the system's reason; the
/// temporary file is removed and `path` is unchanged, except when only the
/// final directory fsync failed (the new content is in place but may not
/// survive a crash).
caf::error write_file_atomically(const std::string& path,
                                 std::string_view content);

/// The whole content of the file at `path`; ec::not_found when it does not
/// exist, ec::storage_failure (with the reason) for other errors.
caf::expected<std::string> read_file(const std::string& path);

} // namespace engram::exports
