#include "common/media_type.h"

#include <cctype>

namespace wfp::host {
namespace {

char Lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

}  // namespace

std::string_view MediaTypeOf(std::string_view content_type) {
  std::string_view media = content_type.substr(0, content_type.find(';'));
  while (!media.empty() && (media.front() == ' ' || media.front() == '\t')) media.remove_prefix(1);
  while (!media.empty() && (media.back() == ' ' || media.back() == '\t')) media.remove_suffix(1);
  return media;
}

bool IsApplicationJson(std::string_view content_type) {
  constexpr std::string_view kJson = "application/json";
  const std::string_view media = MediaTypeOf(content_type);
  if (media.size() != kJson.size()) return false;
  for (size_t i = 0; i < media.size(); ++i)
    if (Lower(media[i]) != kJson[i]) return false;
  return true;
}

bool MediaTypeMentionsJson(std::string_view content_type) {
  const std::string_view media = MediaTypeOf(content_type);
  for (size_t i = 0; i + 4 <= media.size(); ++i)
    if (Lower(media[i]) == 'j' && Lower(media[i + 1]) == 's' && Lower(media[i + 2]) == 'o' &&
        Lower(media[i + 3]) == 'n')
      return true;
  return false;
}

}  // namespace wfp::host
