// The document wfp_embed_openapi() compiles in is byte for byte openapi/openapi.json.
#include <gtest/gtest.h>
#include <wfp/openapi_document.h>

#include <fstream>
#include <sstream>
#include <string>

TEST(EmbeddedOpenApi, IsTheDocumentByteForByte) {
  std::ifstream in(WFP_SOURCE_DIR "/openapi/openapi.json", std::ios::binary);
  ASSERT_TRUE(in) << "cannot read openapi/openapi.json";
  std::stringstream file;
  file << in.rdbuf();
  EXPECT_EQ(wfp::kOpenApiDocument, file.str());
  EXPECT_NE(wfp::kOpenApiDocument.find("\"openapi\": \"3.1.0\""), std::string_view::npos);
}
