// Boost.URL compiled into this module instead of linked from libboost_url.so: Debian 12's
// shared library does not match its own headers (parse_query reads past the end of a
// string_view, and some declared symbols are missing), so we build the library's sources
// with our compiler and flags. See boost/url/src.hpp.
#include <boost/url/src.hpp>
