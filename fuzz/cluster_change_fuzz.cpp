// Any NOTIFY payload line as a change notice from another replica: decoding never crashes,
// and whatever decodes encodes back to the same line.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "store/cluster_channel.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view line(reinterpret_cast<const char*>(data), size);
    const auto notice = cobrador::store::DecodeChange(line);
    if (notice &&
        (cobrador::store::EncodeChange(*notice) != line || notice->replica.empty() ||
         notice->change.empty() || (notice->conversation && *notice->conversation <= 0))) {
        std::abort();
    }
    return 0;
}
