// The evaluation scorer against hand-made records whose scores are known, and the
// evaluation set's leak (synth::LeakSpec::evaluation): every transformation present, line
// art that looks like line art, ground truth that points at the source frames.
#include "evaluation.h"

#include <gtest/gtest.h>

#include <functional>
#include <limits>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <set>

#include "celtrace/error.h"
#include "celtrace/pdq.h"
#include "celtrace/video_reader.h"
#include "synthetic_footage.h"
#include "synthetic_leak.h"
#include "test_util.h"

namespace celtrace {
namespace {

using eval::Attribution;
using eval::Record;
using eval::Truth;

Truth Still(const std::string& path, const std::string& transform, int episode, double time) {
  Truth t;
  t.path = path;
  t.kind = "still";
  t.transform = transform;
  t.expected = "match";
  t.title = "Show";
  t.season = 1;
  t.episode = episode;
  t.ref_start = t.ref_end = time;
  return t;
}

Truth ClipTruth(int episode, double ref_start, double query_start, double seconds) {
  Truth t = Still("c.mp4", "compilation", episode, ref_start);
  t.kind = "clip";
  t.ref_end = ref_start + seconds;
  t.query_start = query_start;
  t.query_end = query_start + seconds;
  return t;
}

Truth Negative(const std::string& path) {
  Truth t;
  t.path = path;
  t.kind = "negative";
  t.transform = "unrelated_art";
  t.expected = "no_match";
  return t;
}

Attribution Match(int episode, double start, double end, int distance, double confidence = 0.9) {
  Attribution a;
  a.title = "Show";
  a.season = 1;
  a.episode = episode;
  a.ref_start = start;
  a.ref_end = end;
  a.distance = distance;
  a.confidence = confidence;
  return a;
}

Record Matched(const std::string& path, std::vector<Attribution> matches,
               const std::string& media = "image") {
  Record r;
  r.path = path;
  r.status = "match";
  r.media = media;
  r.matches = std::move(matches);
  return r;
}

Record Unmatched(const std::string& path) {
  Record r;
  r.path = path;
  r.status = "no_match";
  r.media = "image";
  return r;
}

TEST(EvaluationScore, StillsCountTitleEpisodeTimecodeAndWrongAttributions) {
  const std::vector<Truth> truth = {
      Still("a.png", "none", 1, 10.0), Still("b.png", "none", 1, 20.0),
      Still("c.png", "none", 2, 30.0), Still("d.png", "none", 3, 40.0),
      Still("e.png", "none", 1, 35.0), Still("f.png", "none", 1, 35.0)};
  std::map<std::string, Record> records;
  records["a.png"] = Matched("a.png", {Match(1, 9.5, 10.5, 4)});   // right, in the hold
  records["b.png"] = Matched("b.png", {Match(1, 22.0, 23.0, 6)});  // right episode, wrong time
  records["c.png"] = Matched("c.png", {Match(3, 30.0, 30.0, 8)});  // wrong episode
  records["d.png"] = Unmatched("d.png");
  // A pose that comes back: the second occurrence at the same distance holds the frame.
  records["e.png"] = Matched("e.png", {Match(1, 30, 30, 4), Match(1, 35, 35, 4)});
  // The frame's own occurrence is farther than a neighbour's: the timecode is wrong.
  records["f.png"] = Matched("f.png", {Match(1, 30, 30, 4), Match(1, 35, 35, 6)});
  const eval::Scores scores = eval::ScoreRun(truth, records);
  ASSERT_EQ(scores.stills.size(), 1u);
  const eval::StillScore& s = scores.stills[0];
  EXPECT_EQ(s.total, 6);
  EXPECT_EQ(s.right_title, 5);
  EXPECT_EQ(s.right_episode, 4);
  EXPECT_EQ(s.right_timecode, 2);
  EXPECT_EQ(s.wrong, 1);
  EXPECT_EQ(s.no_match, 1);
  EXPECT_TRUE(scores.missing.empty());
}

TEST(EvaluationScore, ClipSegmentsArePrecisionAndRecallOverTime) {
  // Ground truth: clip seconds 0-4 are episode 1 seconds 10-14, 4-8 are episode 2 50-54.
  const std::vector<Truth> truth = {ClipTruth(1, 10, 0, 4), ClipTruth(2, 50, 4, 4)};
  Attribution first = Match(1, 10, 12, 5);  // query 0-2 at the right offset: 2 s right
  first.query_start = 0;
  first.query_end = 2;
  Attribution shifted = Match(2, 60, 63, 5);  // query 4-7 but 10 s off: 3 s wrong
  shifted.query_start = 4;
  shifted.query_end = 7;
  std::map<std::string, Record> records;
  records["c.mp4"] = Matched("c.mp4", {first, shifted}, "video");
  const eval::Scores scores = eval::ScoreRun(truth, records);
  ASSERT_EQ(scores.clips.size(), 1u);
  const eval::ClipScore& c = scores.clips[0];
  EXPECT_EQ(c.clips, 1);
  EXPECT_DOUBLE_EQ(c.truth_seconds, 8);
  EXPECT_DOUBLE_EQ(c.predicted_seconds, 5);
  EXPECT_DOUBLE_EQ(c.correct_seconds, 2);  // precision 2 / 5
  EXPECT_DOUBLE_EQ(c.found_seconds, 2);    // recall 2 / 8
}

TEST(EvaluationScore, ThresholdCurveKeepsOnlyMatchesWithinEachThreshold) {
  std::vector<Truth> truth = {Still("p.png", "crop_25_offcentre", 1, 5.0)};
  truth.push_back(Negative("n.png"));
  std::map<std::string, Record> records;
  // Best first: the wrong episode at 26 bits, the right one at 36.
  records["p.png"] = Matched("p.png", {Match(2, 0, 0, 26), Match(1, 5, 5, 36)});
  records["n.png"] = Matched("n.png", {Match(3, 0, 0, 45)});
  const auto curve = eval::ThresholdCurve(truth, records, {20, 30, 40, 50});
  ASSERT_EQ(curve.size(), 4u);
  EXPECT_EQ(curve[0].right + curve[0].wrong_episode, 0);  // nothing within 20
  EXPECT_EQ(curve[1].wrong_episode, 1);                   // the wrong one at 26
  EXPECT_EQ(curve[2].wrong_episode, 1);                   // still the nearest at 40
  EXPECT_EQ(curve[2].negative_attributions, 0);
  EXPECT_EQ(curve[3].negative_attributions, 1);
  EXPECT_EQ(curve[3].negatives, 1);
  EXPECT_EQ(curve[3].positives_by_class[2], 1);  // an off-centre crop is hard
}

TEST(EvaluationScore, CalibrationBinsTopAttributionsByConfidence) {
  const std::vector<Truth> truth = {Still("a.png", "none", 1, 1), Still("b.png", "none", 1, 2),
                                    Still("c.png", "none", 1, 3)};
  std::map<std::string, Record> records;
  records["a.png"] = Matched("a.png", {Match(1, 1, 1, 2, 0.97)});
  records["b.png"] = Matched("b.png", {Match(2, 2, 2, 20, 0.40)});
  records["c.png"] = Matched("c.png", {Match(1, 3, 3, 20, 0.45)});
  const auto bins = eval::Calibration(truth, records, {0, 0.5, 1});
  ASSERT_EQ(bins.size(), 2u);
  EXPECT_EQ(bins[0].count, 2);
  EXPECT_EQ(bins[0].right, 1);
  EXPECT_NEAR(bins[0].mean_confidence, 0.425, 1e-9);
  EXPECT_EQ(bins[1].count, 1);
  EXPECT_EQ(bins[1].right, 1);
}

TEST(EvaluationScore, ParsesExpectedCsvAndRecords) {
  const auto truth =
      eval::ParseTruth(std::string(synth::kLeakCsvHeader) +
                       "\n\"a,b.png\",still,mirror,match,Skyfolk,1,2,3.000,3.000,0.000,0.000\n");
  ASSERT_EQ(truth.size(), 1u);
  EXPECT_EQ(truth[0].path, "a,b.png");
  EXPECT_EQ(truth[0].episode, 2);
  const auto records = eval::ParseRecords(
      "{\"path\":\"a,b.png\",\"status\":\"match\",\"media\":\"image\",\"matches\":[{\"title\":"
      "\"Skyfolk\",\"season\":1,\"episode\":2,\"ref_start\":2.9,\"ref_end\":3.1,\"distance\":4,"
      "\"confidence\":0.99,\"channel\":\"pdq\"}]}\n");
  ASSERT_EQ(records.count("a,b.png"), 1u);
  EXPECT_EQ(records.at("a,b.png").matches.at(0).distance, 4);
  EXPECT_THROW(eval::ParseRecords("{not json}\n"), Error);
}

// Bar replays keep PDQ's attributions, apply every region and the colour check to orb's,
// and turn a record left without attributions into no_match.
TEST(EvaluationScore, ReplayedBarsFilterTheChannelsAttributions) {
  const auto records = eval::ParseRecords(
      R"({"path":"a.png","status":"match","matches":[)"
      R"({"title":"S","season":1,"episode":1,"channel":"orb","inliers":60,"correlation":0.95,"chroma":0.2},)"
      R"({"title":"S","season":1,"episode":2,"channel":"orb","inliers":45,"correlation":0.98,"chroma":0.9},)"
      R"({"title":"S","season":1,"episode":3,"channel":"orb","inliers":80,"correlation":0.86},)"
      R"({"title":"S","season":1,"episode":4,"channel":"orb","inliers":45,"correlation":0.95,"chroma":0.9}]})"
      "\n"
      R"({"path":"b.png","status":"match","matches":[)"
      R"({"title":"S","season":1,"episode":5,"channel":"lineart","inliers":50,"correlation":0.99}]})"
      "\n"
      R"({"path":"c.png","status":"match","matches":[)"
      R"({"title":"S","season":1,"episode":6,"channel":"pdq","distance":20}]})"
      "\n"
      R"({"path":"d.png","status":"match","matches":[)"
      R"({"title":"S","season":1,"episode":7,"channel":"orb","inliers":90,"correlation":0.99,"chroma":0.9,"nesting":0.7},)"
      R"({"title":"S","season":1,"episode":8,"channel":"lineart","inliers":90,"correlation":0.99,"nesting":0.5}]})"
      "\n"
      R"({"path":"e.png","status":"match","matches":[)"
      R"({"title":"S","season":1,"episode":9,"channel":"orb","inliers":25,"correlation":0.975,"chroma":0.9},)"
      R"({"title":"S","season":1,"episode":10,"channel":"orb","inliers":25,"correlation":0.985,"chroma":0.9},)"
      R"({"title":"S","season":1,"episode":11,"channel":"orb","inliers":15,"correlation":0.995,"chroma":0.9},)"
      R"({"title":"S","season":1,"episode":12,"channel":"orb","inliers":15,"correlation":0.985,"chroma":0.9},)"
      R"({"title":"S","season":1,"episode":13,"channel":"orb","inliers":10,"correlation":0.999,"chroma":0.9}]})"
      "\n"
      R"({"path":"f.png","status":"match","matches":[)"
      R"({"title":"S","season":1,"episode":14,"channel":"lineart","inliers":90,"correlation":0.99,"nesting":1.0,"ink_inside":0.6},)"
      R"({"title":"S","season":1,"episode":15,"channel":"lineart","inliers":70,"correlation":0.9,"nesting":1.0,"ink_inside":0.85}]})"
      "\n"
      R"({"path":"g.png","status":"match","matches":[)"
      R"({"title":"S","season":1,"episode":16,"channel":"lineart","inliers":90,"correlation":0.95,"nesting":1.0,"ink_inside":1.0,"strokes":0.5},)"
      R"({"title":"S","season":1,"episode":17,"channel":"lineart","inliers":90,"correlation":0.9,"nesting":1.0,"ink_inside":1.0,"strokes":0.9},)"
      R"({"title":"S","season":1,"episode":18,"channel":"lineart","inliers":90,"correlation":0.85,"nesting":1.0,"ink_inside":1.0}]})"
      "\n"
      R"({"path":"h.png","status":"match","matches":[)"
      R"({"title":"S","season":1,"episode":19,"channel":"lineart","inliers":40,"correlation":0.7,"nesting":1.0,"ink_inside":1.0,"strokes":0.9},)"
      R"({"title":"S","season":1,"episode":20,"channel":"lineart","inliers":40,"correlation":0.7,"nesting":1.0,"ink_inside":1.0}]})"
      "\n"
      R"({"path":"i.png","status":"match","matches":[)"
      R"({"title":"S","season":1,"episode":21,"channel":"lineart","method":"stroke_lookup","strokes":0.9,"drawn":0.9,"framed":0.95},)"
      R"({"title":"S","season":1,"episode":22,"channel":"lineart","method":"stroke_lookup","strokes":0.65,"drawn":0.65,"framed":0.9},)"
      R"({"title":"S","season":1,"episode":23,"channel":"lineart","method":"stroke_lookup","strokes":0.8,"drawn":0.95,"framed":0.8}]})"
      "\n"
      R"({"path":"j.png","status":"match","matches":[)"
      R"({"title":"S","season":1,"episode":24,"channel":"orb","inliers":80,"correlation":0.88,"chroma":0.9,"nesting":1.0,"realignment":0.2},)"
      R"({"title":"S","season":1,"episode":25,"channel":"orb","inliers":80,"correlation":0.88,"chroma":0.9,"nesting":1.0,"realignment":0.01},)"
      R"({"title":"S","season":1,"episode":26,"channel":"orb","inliers":80,"correlation":0.88,"chroma":0.9,"nesting":1.0},)"
      R"({"title":"S","season":1,"episode":27,"channel":"orb","inliers":80,"correlation":0.95,"chroma":0.9,"nesting":1.0,"realignment":0.2},)"
      R"({"title":"S","season":1,"episode":28,"channel":"orb","inliers":80,"correlation":0.88,"chroma":0.9,"nesting":1.0,"realignment":0.1},)"
      R"({"title":"S","season":1,"episode":29,"channel":"orb","inliers":80,"correlation":0.88,"chroma":0.9,"nesting":1.0,"realignment":0.101}]})"
      "\n"
      R"({"path":"k.png","status":"match","matches":[)"
      R"({"title":"S","season":1,"episode":30,"channel":"lineart","method":"stroke_search","strokes":0.95,"drawn":1.0,"framed":0.95},)"
      R"({"title":"S","season":1,"episode":31,"channel":"lineart","method":"stroke_search","strokes":0.9,"drawn":0.95,"framed":0.9},)"
      R"({"title":"S","season":1,"episode":32,"channel":"lineart","method":"stroke_search","strokes":0.89,"drawn":0.99,"framed":0.89},)"
      R"({"title":"S","season":1,"episode":33,"channel":"lineart","method":"stroke_search","strokes":0.92,"drawn":0.92,"framed":0.99}]})"
      "\n"
      R"({"path":"l.png","status":"match","matches":[)"
      R"({"title":"S","season":1,"episode":40,"channel":"lineart","method":"stroke_search","strokes":0.95,"drawn":1.0,"framed":0.95,"ink_under":800,"rival_strokes":0.9},)"
      R"({"title":"S","season":1,"episode":41,"channel":"lineart","method":"stroke_search","strokes":0.95,"drawn":1.0,"framed":0.95,"ink_under":799,"rival_strokes":0.5},)"
      R"({"title":"S","season":1,"episode":42,"channel":"lineart","method":"stroke_search","strokes":0.95,"drawn":1.0,"framed":0.95,"ink_under":5000,"rival_strokes":0.91}]})"
      "\n");
  ASSERT_EQ(records.at("a.png").matches.at(0).inliers, 60);
  ASSERT_EQ(records.at("d.png").matches.at(0).nesting, 0.7);
  ASSERT_FALSE(records.at("a.png").matches.at(0).nesting.has_value());
  ASSERT_EQ(records.at("f.png").matches.at(0).ink_inside, 0.6);
  ASSERT_FALSE(records.at("b.png").matches.at(0).ink_inside.has_value());
  ASSERT_EQ(records.at("g.png").matches.at(0).strokes, 0.5);
  ASSERT_FALSE(records.at("g.png").matches.at(2).strokes.has_value());
  ASSERT_EQ(records.at("a.png").matches.at(0).chroma, 0.2);
  ASSERT_FALSE(records.at("a.png").matches.at(2).chroma.has_value());
  ASSERT_EQ(records.at("j.png").matches.at(0).realignment, 0.2);
  ASSERT_FALSE(records.at("j.png").matches.at(2).realignment.has_value());
  // 60 / 0.92, 40 / 0.97, 70 / 0.85, 20 / 0.98, 12 / 0.99, chroma 0.35; lineart 60
  const MatchOptions defaults;
  const auto replayed =
      eval::ReplayBars(records, ChannelBars(false, defaults), ChannelBars(true, defaults));
  // a: episode 1 fails the colour check, 2 passes the close region, 3 the strong one
  // (colours not measured), 4 no region.
  const auto& a = replayed.at("a.png").matches;
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].episode, 2);
  EXPECT_EQ(a[1].episode, 3);
  EXPECT_EQ(replayed.at("b.png").status, "no_match");  // 50 < 60 lineart inliers
  EXPECT_TRUE(replayed.at("b.png").matches.empty());
  EXPECT_EQ(replayed.at("c.png").matches.size(), 1u);  // PDQ's are kept
  // e: 25 inliers pass the closest region at 0.985, not at 0.975; 15 are under its 20 but
  // pass the exact region at 0.995, not at 0.985; 10 are under the exact region's 12.
  const auto& e = replayed.at("e.png").matches;
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(e[0].episode, 10);
  EXPECT_EQ(e[1].episode, 11);
  // d: both channels' matches straddle the frame (nesting under 0.9); records without
  // nesting (a) are not vetoed by it.
  EXPECT_EQ(replayed.at("d.png").status, "no_match");
  // The matches of `path` kept at the defaults with one option changed by `change`.
  auto kept_with = [&](const std::string& path, const std::function<void(MatchOptions&)>& change) {
    MatchOptions options = defaults;
    change(options);
    return eval::ReplayBars(records, ChannelBars(false, options), ChannelBars(true, options))
        .at(path)
        .matches.size();
  };
  // The episodes of a record's attributions kept at the defaults, in order.
  auto kept_episodes = [&](const std::string& path) {
    std::vector<int> episodes;
    for (const auto& m : replayed.at(path).matches) episodes.push_back(m.episode);
    return episodes;
  };
  EXPECT_EQ(kept_with("d.png", [](MatchOptions& o) { o.min_nesting = 0; }), 2u);
  EXPECT_EQ(kept_with("a.png", [](MatchOptions& o) { o.min_chroma_correlation = -1; }), 3u);
  // f: the line-art match with 60% of its ink inside the frame fails the ink check (0.8),
  // the one with 85% passes; with the check off both are kept. Records without the measure
  // (b, whose 50 inliers fail anyway) are not vetoed by it.
  const auto& f = replayed.at("f.png").matches;
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].episode, 15);
  EXPECT_EQ(kept_with("f.png", [](MatchOptions& o) { o.min_line_art_ink_inside = 0; }), 2u);
  // g: at a stroke bar of 0.7 the match with half its strokes in common is dropped, the one
  // with 0.9 kept, and the one without the measure (an index without stroke maps) kept.
  const auto strokes_kept = [&](double bar) {
    MatchOptions options = defaults;
    options.min_line_art_strokes = bar;
    std::vector<int> episodes;
    for (const auto& m :
         eval::ReplayBars(records, ChannelBars(false, options), ChannelBars(true, options))
             .at("g.png")
             .matches) {
      episodes.push_back(m.episode);
    }
    return episodes;
  };
  EXPECT_EQ(strokes_kept(0.7), (std::vector<int>{17, 18}));
  EXPECT_EQ(strokes_kept(0), (std::vector<int>{16, 17, 18}));
  // h: 40 inliers at 0.7 are under the main region (60, 0.80) and pass the stroke region (30,
  // 0.6) only with strokes measured and the check on.
  const auto h = replayed.at("h.png").matches;
  ASSERT_EQ(h.size(), 1u);
  EXPECT_EQ(h[0].episode, 19);
  EXPECT_EQ(kept_with("h.png", [](MatchOptions& o) { o.min_line_art_strokes = 0; }), 0u);
  EXPECT_EQ(kept_with("h.png", [](MatchOptions& o) { o.line_art_stroke_min_inliers = 41; }), 0u);
  // i: stroke lookups, with no inliers, are judged by their drawn and framed shares alone
  // (0.6, 0.85): 0.8 framed is under the bar; at 0.7 drawn the one with 0.65 goes too.
  ASSERT_EQ(records.at("i.png").matches.at(0).method, "stroke_lookup");
  ASSERT_EQ(records.at("i.png").matches.at(2).framed, 0.8);
  const auto& i = replayed.at("i.png").matches;
  ASSERT_EQ(i.size(), 2u);
  EXPECT_EQ(i[0].episode, 21);
  EXPECT_EQ(i[1].episode, 22);
  EXPECT_EQ(kept_with("i.png", [](MatchOptions& o) { o.min_lookup_drawn = 0.7; }), 1u);
  EXPECT_EQ(kept_with("i.png", [](MatchOptions& o) { o.min_lookup_framed = 0.8; }), 3u);
  // j: at 80 inliers and 0.88 only the strong region accepts, and only a keyframe the
  // refinement moved at most 0.1 of the width, the bar included (older records, without the
  // measure, are not vetoed); at 0.95 the main region accepts whatever the realignment.
  // Without the bar all six are kept.
  EXPECT_EQ(kept_episodes("j.png"), (std::vector<int>{25, 26, 27, 28}));
  EXPECT_EQ(kept_with("j.png",
                      [](MatchOptions& o) {
                        o.strong_max_realignment = std::numeric_limits<double>::infinity();
                      }),
            6u);
  // k: stroke searches are judged by their strokes (0.9) and drawn (0.95) shares, the bars
  // included; records without the ink and rival are not vetoed by those bars.
  ASSERT_EQ(records.at("k.png").matches.at(0).method, "stroke_search");
  EXPECT_EQ(kept_episodes("k.png"), (std::vector<int>{30, 31}));
  EXPECT_EQ(kept_with("k.png", [](MatchOptions& o) { o.min_search_strokes = 0.95; }), 1u);
  EXPECT_EQ(kept_with("k.png", [](MatchOptions& o) { o.min_search_drawn = 0.9; }), 3u);
  EXPECT_EQ(kept_with("k.png",
                      [](MatchOptions& o) {
                        o.min_search_strokes = 0.85;
                        o.min_search_drawn = 0.9;
                      }),
            4u);
  // l: where records carry them, the ink under the still (800) and the lead over the best
  // other episode (0.05 of strokes in common, met as written with three decimals) too.
  ASSERT_EQ(records.at("l.png").matches.at(0).ink_under, 800);
  ASSERT_EQ(records.at("l.png").matches.at(0).rival_strokes, 0.9);
  ASSERT_FALSE(records.at("k.png").matches.at(0).ink_under.has_value());
  EXPECT_EQ(kept_episodes("l.png"), (std::vector<int>{40}));
  EXPECT_EQ(kept_with("l.png", [](MatchOptions& o) { o.min_search_ink = 0; }), 2u);
  EXPECT_EQ(kept_with("l.png", [](MatchOptions& o) { o.min_search_margin = 0.04; }), 2u);
  EXPECT_EQ(kept_with("l.png",
                      [](MatchOptions& o) {
                        o.min_search_ink = 0;
                        o.min_search_margin = 0;
                      }),
            3u);
  EXPECT_EQ(kept_with("l.png", [](MatchOptions& o) { o.min_search_ink = 801; }), 0u);
  // The orb channel's bars never accept a search.
  EXPECT_FALSE(ChannelBars(false, defaults).AcceptsSearch(1.0, 1.0, 100000, 0.0));
  // The ink and margin bars veto only where measured (the matcher, a replay of records that
  // carry them).
  const AcceptanceBars line_art = ChannelBars(true, defaults);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  EXPECT_TRUE(line_art.AcceptsSearch(1.0, 0.95, std::nullopt, std::nullopt));
  EXPECT_TRUE(line_art.AcceptsSearch(1.0, 0.95, 800, std::nullopt));
  EXPECT_FALSE(line_art.AcceptsSearch(1.0, 0.95, 799, std::nullopt));
  EXPECT_FALSE(line_art.AcceptsSearch(1.0, nan, 800, std::nullopt));
  EXPECT_TRUE(line_art.AcceptsSearch(1.0, 0.95, 800, 0.9));
  EXPECT_FALSE(line_art.AcceptsSearch(1.0, 0.95, 800, 0.901));
  EXPECT_FALSE(line_art.AcceptsSearch(1.0, 0.95, 800, nan));
  // A realignment that is not a number passes no region; an infinite one only those without
  // a limit.
  const AcceptanceBars orb = ChannelBars(false, defaults);
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_FALSE(orb.Accepts({80, 0.88, 0.9, 1.0, {}, {}, nan}));
  EXPECT_FALSE(orb.Accepts({80, 0.95, 0.9, 1.0, {}, {}, nan}));
  EXPECT_FALSE(orb.Accepts({80, 0.88, 0.9, 1.0, {}, {}, inf}));
  EXPECT_TRUE(orb.Accepts({80, 0.95, 0.9, 1.0, {}, {}, inf}));
  // The orb channel's bars never accept a lookup (a record naming orb with a method).
  EXPECT_FALSE(ChannelBars(false, defaults).AcceptsLookup(1.0, 1.0));
}

// celtrace-evaluate's exit codes: --help 0, every usage error 2, a bar out of its range
// (a CLI11 validation error, whose own code is 105) included.
TEST(EvaluateTool, UsageErrorsExitTwo) {
  auto run = [](std::vector<std::string> args) {
    args.insert(args.begin(), CELTRACE_EVALUATE_BIN);
    return testing::WaitProgram(testing::StartProgram(args));
  };
  EXPECT_EQ(run({"--help"}), 0);
  EXPECT_EQ(run({"--bogus-flag"}), 2);
  EXPECT_EQ(run({"--replay", "--min-nesting", "2"}), 2);
  EXPECT_EQ(run({"--replay", "--min-chroma", "2"}), 2);
  EXPECT_EQ(run({"--replay", "--min-line-art-ink-inside", "1.5"}), 2);
  EXPECT_EQ(run({"--replay", "--min-search-margin", "2"}), 2);
  EXPECT_EQ(run({"--replay", "--min-search-ink", "-1"}), 2);
}

// The unrelated line art's style (another studio's by default, the house style on request)
// changes those drawings and nothing else of the leak: the same rows, the same bytes in
// every other still, so figures measured with either style compare item for item. (That
// the house style draws what leaks drew before 2026-12-07 was checked by hand on the
// evaluation leaks: README "Unrelated line art from another studio".)
TEST(EvaluationSet, UnrelatedLineArtStyleChangesThoseDrawingsOnly) {
  testing::TempDir dir;
  synth::CatalogSpec catalog;
  catalog.episodes = 2;
  catalog.seconds = 20;
  catalog.seed = 9;
  catalog.size = {320, 180};
  synth::LeakSpec leak;
  leak.catalog = synth::PlanCatalog(catalog);
  leak.seed = 5;
  leak.stills_per_transform = 2;
  leak.with_clips = false;
  leak.with_archive = false;
  leak.evaluation = true;
  leak.out_dir = dir / "other";
  const auto other = synth::WriteLeak(leak);
  leak.out_dir = dir / "house";
  leak.unrelated_line_art_style = synth::DrawingStyle::kHouse;
  const auto house = synth::WriteLeak(leak);

  ASSERT_EQ(other.size(), house.size());
  EXPECT_EQ(testing::Slurp(dir / "other" / "expected.csv"),
            testing::Slurp(dir / "house" / "expected.csv"));
  int redrawn = 0;
  for (size_t i = 0; i < other.size(); ++i) {
    ASSERT_EQ(other[i].path, house[i].path);
    ASSERT_EQ(other[i].transform, house[i].transform);
    const bool same = testing::Slurp(dir / "other" / other[i].path) ==
                      testing::Slurp(dir / "house" / house[i].path);
    if (other[i].transform == "unrelated_lineart") {
      EXPECT_FALSE(same) << other[i].path;
      ++redrawn;
    } else {
      EXPECT_TRUE(same) << other[i].path << " (" << other[i].transform << ")";
    }
  }
  EXPECT_EQ(redrawn, 2);
}

TEST(EvaluationSet, HoldsEveryTransformationWithItsGroundTruth) {
  testing::TempDir dir;
  synth::CatalogSpec catalog;
  catalog.out_dir = dir / "catalog";
  catalog.episodes = 2;
  catalog.seconds = 30;
  catalog.seed = 9;
  catalog.size = {320, 180};
  synth::LeakSpec leak;
  leak.out_dir = dir / "leak";
  leak.catalog = synth::PlanCatalog(catalog);
  leak.seed = 4;
  leak.stills_per_transform = 1;
  leak.with_archive = false;
  leak.evaluation = true;
  leak.evaluation_clips = 1;
  const auto items = synth::WriteLeak(leak);

  std::set<std::string> still_transforms, negatives, clips;
  for (const synth::LeakItem& item : items) {
    if (item.kind == "still") still_transforms.insert(item.transform);
    if (item.kind == "negative") negatives.insert(item.transform);
    if (item.kind == "clip") clips.insert(item.transform);
    ASSERT_TRUE(std::filesystem::exists(dir / "leak" / item.path)) << item.path;
  }
  EXPECT_EQ(still_transforms.size(), 29u);
  for (const char* t : {"crop_25_offcentre", "screenshot", "lineart", "rotate_5", "watermark",
                        "posterise", "noise", "blur", "aspect"}) {
    EXPECT_EQ(still_transforms.count(t), 1u) << t;
  }
  for (const char* n : {"unrelated_art", "unrelated_crop", "unrelated_rotate",
                        "unrelated_screenshot", "unrelated_lineart", "flat"}) {
    EXPECT_EQ(negatives.count(n), 1u) << n;
  }
  for (const char* c :
       {"reencode", "retimed_25fps", "compilation", "clip_crop", "clip_caption",
        "clip_crop_25_offcentre", "clip_screenshot", "compilation_crop_25_offcentre"}) {
    EXPECT_EQ(clips.count(c), 1u) << c;
  }
  // The compilation with a cropped part: two rows of one clip; its first part shows the
  // episode's frames (PDQ near), its second a crop of them (PDQ far).
  std::vector<synth::LeakItem> parts;
  for (const synth::LeakItem& item : items) {
    if (item.transform == "compilation_crop_25_offcentre") parts.push_back(item);
  }
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[0].path, parts[1].path);
  EXPECT_LT(parts[0].query_end, parts[1].query_start);
  for (int p = 0; p < 2; ++p) {
    VideoReader reader(dir / "leak" / parts[p].path);
    ASSERT_TRUE(reader.SeekTo(parts[p].query_start + 1.0));
    Frame shown;
    ASSERT_TRUE(reader.Read(&shown));
    int compared = 0;
    for (const synth::CatalogEntry& e : synth::PlanCatalog(catalog)) {
      if (e.title != parts[p].title || e.episode != parts[p].episode) continue;
      const double ref = parts[p].ref_start + (shown.seconds - parts[p].query_start);
      const cv::Mat frame =
          synth::RenderFrame(e.spec, synth::PlanEpisode(e.spec), std::llround(ref * e.spec.fps));
      const int distance = HammingDistance(ComputePdq(frame), ComputePdq(shown.image));
      ++compared;
      if (p == 0) {
        EXPECT_LE(distance, 31) << "the first part is the broadcast frame";
      } else {
        EXPECT_GT(distance, 31) << "the second part is beyond PDQ";
      }
    }
    EXPECT_EQ(compared, 1) << parts[p].title << " " << parts[p].episode;
  }

  const std::vector<synth::CatalogEntry> episodes = synth::PlanCatalog(catalog);
  for (const synth::LeakItem& item : items) {
    if (item.kind != "still") continue;
    const cv::Mat image = cv::imread((dir / "leak" / item.path).string(), cv::IMREAD_COLOR);
    ASSERT_FALSE(image.empty()) << item.path;
    if (item.transform == "lineart") {
      // Mostly paper, with dark strokes: the line-art channel's trigger.
      cv::Mat grey, paper, ink;
      cv::cvtColor(image, grey, cv::COLOR_BGR2GRAY);
      cv::threshold(grey, paper, 200, 1, cv::THRESH_BINARY);
      cv::threshold(grey, ink, 100, 1, cv::THRESH_BINARY_INV);
      EXPECT_GT(cv::countNonZero(paper), grey.total() * 0.6);
      EXPECT_GT(cv::countNonZero(ink), grey.total() * 0.005);
      // The ground truth names the frame the drawing is the line art of.
      for (const synth::CatalogEntry& e : episodes) {
        if (e.title != item.title || e.episode != item.episode) continue;
        const synth::Episode plan = synth::PlanEpisode(e.spec);
        const auto frame = static_cast<std::int64_t>(std::llround(item.ref_start * e.spec.fps));
        const cv::Mat art = synth::RenderLineArt(e.spec, plan, frame);
        EXPECT_LE(HammingDistance(ComputePdq(art), ComputePdq(image)), 16);
      }
    }
    if (item.transform == "screenshot") {
      EXPECT_GE(image.cols, 1920);  // the UI around the frame
    }
  }
}

}  // namespace
}  // namespace celtrace
