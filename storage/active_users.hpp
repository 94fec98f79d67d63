#pragma once
// Which users have unfinished pipeline work (tasks or embedding markers), so
// that a restarted node can wake exactly those users' actors instead of
// scanning every task ever written. Column `meta`, key
// str("active") str(user), empty value: put in every batch that creates
// work, erased by the user actor once all its work is done.

#include <optional>
#include <string>
#include <string_view>

namespace engram::storage {

std::string active_user_key(std::string_view user);
std::string active_user_prefix();
/// The user of an active_user_key, or nullopt.
std::optional<std::string> user_of_active_key(std::string_view key);

} // namespace engram::storage
