#define BOOST_TEST_MODULE core_stage_spec
#include <boost/test/unit_test.hpp>

#include "core/stage_spec.h"

using rr::parse_stage_list;

BOOST_AUTO_TEST_CASE(parses_names_keys_and_typed_values) {
    auto r = parse_stage_list("grayscale,brightness:amount=0.15,contrast:amount=1.3,blur:radius=4");
    BOOST_REQUIRE(r.ok());
    BOOST_REQUIRE_EQUAL(r->size(), 4u);
    BOOST_TEST((*r)[0].name == "grayscale");
    BOOST_TEST((*r)[0].params.empty());
    BOOST_TEST((*r)[1].params["amount"].get<double>() == 0.15);
    BOOST_TEST((*r)[3].params["radius"].is_number_integer());
    BOOST_TEST((*r)[3].params["radius"].get<int>() == 4);
}

BOOST_AUTO_TEST_CASE(plus_separates_list_values_but_not_exponents) {
    auto r = parse_stage_list("detect:targets=faces+people:min_score=1e+0:action=blur");
    BOOST_REQUIRE(r.ok());
    auto& p = (*r)[0].params;
    BOOST_REQUIRE(p["targets"].is_array());
    BOOST_TEST(p["targets"][1].get<std::string>() == "people");
    BOOST_TEST(p["min_score"].get<double>() == 1.0);
    BOOST_TEST(p["action"].get<std::string>() == "blur");
}

BOOST_AUTO_TEST_CASE(negative_numbers_and_words) {
    auto r = parse_stage_list("scale:width=-1:height=720,color:white_balance=auto");
    BOOST_REQUIRE(r.ok());
    BOOST_TEST((*r)[0].params["width"].get<int>() == -1);
    BOOST_TEST((*r)[1].params["white_balance"].get<std::string>() == "auto");
}

BOOST_AUTO_TEST_CASE(malformed_lists_are_errors_that_say_where) {
    auto missing_value = parse_stage_list("blur:radius");
    BOOST_REQUIRE(!missing_value.ok());
    BOOST_TEST(missing_value.error().message.find("blur") != std::string::npos);
    BOOST_TEST(missing_value.error().message.find("key=value") != std::string::npos);

    BOOST_TEST(!parse_stage_list("grayscale,,blur").ok());
    BOOST_TEST(!parse_stage_list(":radius=2").ok());
    auto twice = parse_stage_list("blur:radius=2:radius=3");
    BOOST_REQUIRE(!twice.ok());
    BOOST_TEST(twice.error().message.find("twice") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(empty_list_means_no_stages) {
    auto r = parse_stage_list("");
    BOOST_REQUIRE(r.ok());
    BOOST_TEST(r->empty());
}
