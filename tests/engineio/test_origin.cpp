// Origin checks (same origin, "*", lists), the setting's validation and the CORS headers.
#include <gtest/gtest.h>

#include "server/engineio/origin.h"

namespace posestream::server::engineio {
namespace {

const std::vector<std::string> kSameOrigin;

TEST(EngineIoOrigin, ARequestWithoutOriginIsAllowed) {
  EXPECT_TRUE(origin_allowed(std::nullopt, "example.com", kSameOrigin));
  EXPECT_TRUE(origin_allowed(std::nullopt, "", {"https://a.example"}));
}

TEST(EngineIoOrigin, SameOriginComparesHostAndPortWithDefaults) {
  EXPECT_TRUE(origin_allowed("http://127.0.0.1:8080", "127.0.0.1:8080", kSameOrigin));
  EXPECT_TRUE(origin_allowed("http://Example.COM", "example.com", kSameOrigin));
  EXPECT_TRUE(origin_allowed("http://example.com", "example.com:80", kSameOrigin));
  EXPECT_TRUE(origin_allowed("https://example.com", "example.com:443", kSameOrigin));
  EXPECT_TRUE(origin_allowed("http://[::1]:3000", "[::1]:3000", kSameOrigin));
  EXPECT_FALSE(origin_allowed("http://127.0.0.1:8081", "127.0.0.1:8080", kSameOrigin));
  EXPECT_FALSE(origin_allowed("http://evil.example", "example.com", kSameOrigin));
  EXPECT_FALSE(origin_allowed("https://example.com", "example.com:80", kSameOrigin));
  EXPECT_FALSE(origin_allowed("http://example.com.evil.example", "example.com", kSameOrigin));
}

TEST(EngineIoOrigin, MalformedOriginsAreRefused) {
  EXPECT_FALSE(origin_allowed("null", "example.com", kSameOrigin));
  EXPECT_FALSE(origin_allowed("", "example.com", kSameOrigin));
  EXPECT_FALSE(origin_allowed("example.com", "example.com", kSameOrigin));
  EXPECT_FALSE(origin_allowed("http://exa mple.com", "exa mple.com", kSameOrigin));
  EXPECT_FALSE(origin_allowed("http://example.com:99999999", "example.com:99999999", kSameOrigin));
  EXPECT_FALSE(origin_allowed("http://example.com", "", kSameOrigin));
}

TEST(EngineIoOrigin, StarAllowsAnyOrigin) {
  EXPECT_TRUE(origin_allowed("http://anything.example:1234", "example.com", {"*"}));
  EXPECT_TRUE(origin_allowed("null", "example.com", {"https://a.example", "*"}));
}

TEST(EngineIoOrigin, AListAllowsExactlyItsOrigins) {
  const std::vector<std::string> list = {"https://app.example", "http://localhost:5173/"};
  EXPECT_TRUE(origin_allowed("https://app.example", "api.example", list));
  EXPECT_TRUE(origin_allowed("https://APP.example:443", "api.example", list));
  EXPECT_TRUE(origin_allowed("http://localhost:5173", "api.example", list));
  EXPECT_FALSE(origin_allowed("http://app.example", "api.example", list));
  EXPECT_FALSE(origin_allowed("http://localhost:5174", "api.example", list));
  // With a list, the server's own origin is not implied.
  EXPECT_FALSE(origin_allowed("http://api.example", "api.example", list));
}

TEST(EngineIoOrigin, ValidatesTheSetting) {
  EXPECT_FALSE(validate_allowed_origins({}));
  EXPECT_FALSE(validate_allowed_origins({"*", "https://a.example", "http://localhost:3000"}));
  const auto error = validate_allowed_origins({"https://a.example", "a.example"});
  ASSERT_TRUE(error);
  EXPECT_NE(error->find("'a.example'"), std::string::npos) << *error;
}

TEST(EngineIoOrigin, CorsHeadersEchoTheOrigin) {
  EXPECT_TRUE(cors_headers(std::nullopt).empty());
  const HeaderList headers = cors_headers("http://page.example:8000");
  const HeaderList expected = {{"Access-Control-Allow-Origin", "http://page.example:8000"},
                               {"Access-Control-Allow-Credentials", "true"},
                               {"Vary", "Origin"}};
  EXPECT_EQ(headers, expected);
}

}  // namespace
}  // namespace posestream::server::engineio
