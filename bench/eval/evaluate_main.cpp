// celtrace-evaluate: scores celtrace-match records against a synthetic leak's ground truth
// and prints Markdown tables: accuracy per transformation, negatives, clip segments, the
// threshold curve (from a run with a wide threshold) and the confidence calibration; with
// --replay, of the records as they would be at other bars for the orb and lineart channels.
// Exit codes: 0 ok, 1 unreadable input, 2 usage.
#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <sstream>

#include "acceptance_options.h"
#include "celtrace/catalog.h"
#include "celtrace/index_store.h"
#include "evaluation.h"

namespace {

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The distances between entries of different titles (unrelated frames in the same art
// style): for each threshold, the share of pairs within it and, from that rate, the
// expected entries within it per still query (16 hashes) at larger index sizes. Where no
// pair lies within, the rule of three bounds the rate (95%).
void PrintPairTail(const std::string& index_dir) {
  const celtrace::Index index = celtrace::Index::Open(index_dir);
  std::map<std::int64_t, std::string> title_of;
  for (const auto& e : index.catalog().Episodes()) title_of[e.id] = e.title;
  std::map<std::string, std::vector<celtrace::Pdq>> by_title;
  for (const celtrace::Entry& e : index.catalog().AllEntries()) {
    by_title[title_of[e.episode_id]].push_back(e.hash);
  }
  std::vector<std::uint64_t> histogram(257, 0);
  std::uint64_t pairs = 0;
  for (auto a = by_title.begin(); a != by_title.end(); ++a) {
    for (auto b = std::next(a); b != by_title.end(); ++b) {
      for (const celtrace::Pdq& x : a->second) {
        for (const celtrace::Pdq& y : b->second) ++histogram[celtrace::HammingDistance(x, y)];
      }
      pairs += a->second.size() * b->second.size();
    }
  }
  int nearest = 0;
  while (nearest < 256 && histogram[nearest] == 0) ++nearest;
  // The lower tail of the cumulative distribution, ln P(d <= t), is close to linear in t
  // where it is measured (heavier than a normal's): fitted by least squares over the
  // thresholds with 10 .. pairs / 1000 pairs within, then extrapolated below them.
  std::vector<double> cumulative(257);
  double sum = 0;
  for (int d = 0; d <= 256; ++d) cumulative[d] = (sum += static_cast<double>(histogram[d]));
  double n = 0, st = 0, sy = 0, stt = 0, sty = 0;
  int fit_from = -1, fit_to = -1;
  for (int t = 0; t <= 256; ++t) {
    if (cumulative[t] < 10 || cumulative[t] > static_cast<double>(pairs) / 1000) continue;
    if (fit_from < 0) fit_from = t;
    fit_to = t;
    const double y = std::log(cumulative[t] / static_cast<double>(pairs));
    n += 1;
    st += t;
    sy += y;
    stt += static_cast<double>(t) * t;
    sty += t * y;
  }
  const double slope = n > 1 ? (n * sty - st * sy) / (n * stt - st * st) : 0;
  const double intercept = n > 0 ? (sy - slope * st) / n : 0;
  std::printf(
      "cross-title entry pairs: %llu, nearest %d bits; ln P(d <= t) fitted over t = %d..%d: "
      "P falls %.1fx per bit\n\n",
      static_cast<unsigned long long>(pairs), nearest, fit_from, fit_to, std::exp(slope));
  std::printf(
      "| threshold | pairs within | rate measured | rate, tail fit | entries within per still "
      "(tail fit) at 10^5 / 10^6 / 10^7 entries |\n|---|---|---|---|---|\n");
  std::uint64_t within = 0;
  int next = 0;
  for (const int t : {24, 28, 31, 36, 40, 44, 48, 52, 56, 60, 64, 68, 72}) {
    for (; next <= t; ++next) within += histogram[next];
    const bool bound = within == 0;
    const double rate = (bound ? 3.0 : static_cast<double>(within)) / static_cast<double>(pairs);
    const double fit = n > 1 ? std::exp(intercept + slope * t) : 0;
    std::printf("| %d | %llu | %s%.1e | %.1e | %.2g / %.2g / %.2g |\n", t,
                static_cast<unsigned long long>(within), bound ? "< " : "", rate, fit,
                16 * 1e5 * fit, 16 * 1e6 * fit, 16 * 1e7 * fit);
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"celtrace-evaluate: scores celtrace-match records against expected.csv."};
  std::string expected, records, wide, tail_index;
  int curve_from = 16, curve_to = 64, curve_step = 4;
  bool clips_only = false;
  app.add_option("--expected", expected, "The leak's ground truth (expected.csv)");
  app.add_option("--records", records, "celtrace-match JSON Lines at the default settings");
  app.add_option("--wide", wide,
                 "JSON Lines of a run with --threshold >= the curve's end and a large "
                 "--max-matches: the threshold curve comes from it");
  app.add_option("--curve-from", curve_from, "First threshold of the curve")->capture_default_str();
  app.add_option("--curve-to", curve_to, "Last threshold of the curve")->capture_default_str();
  app.add_option("--curve-step", curve_step, "Step of the curve")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--pair-tail", tail_index,
                 "Only print the distance tail between entries of different titles of this "
                 "index (no records needed)");
  app.add_flag("--clips-only", clips_only,
               "Score and print the clips alone (a run over the leak's clips only)");
  // Bar replays: records of a run at low bars (and a large --max-matches) scored as if the
  // matcher had used these bars for orb and lineart; the defaults are the matcher's.
  bool replay = false;
  celtrace::MatchOptions bars;
  app.add_flag("--replay", replay,
               "Score --records as if celtrace-match had used the bars below for orb and "
               "lineart (records from a run at lower bars with a large --max-matches)");
  celtrace::AddAcceptanceOptions(app, bars);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help exits 0; every usage error, validation included, is exit code 2.
    return app.exit(e) == 0 ? 0 : 2;
  }

  try {
    if (!tail_index.empty()) {
      PrintPairTail(tail_index);
      return 0;
    }
    if (expected.empty() || records.empty()) {
      std::cerr << "celtrace-evaluate: --expected and --records are required\n";
      return 2;
    }
    namespace eval = celtrace::eval;
    const std::vector<eval::Truth> truth = eval::ParseTruth(ReadText(expected));
    auto run = eval::ParseRecords(ReadText(records));
    if (replay) {
      run = eval::ReplayBars(run, celtrace::ChannelBars(false, bars),
                             celtrace::ChannelBars(true, bars));
    }
    std::vector<eval::CurvePoint> curve;
    std::vector<eval::DistanceSummary> distances;
    if (!wide.empty()) {
      std::vector<int> thresholds;
      for (int t = curve_from; t <= curve_to; t += curve_step) thresholds.push_back(t);
      const auto wide_run = eval::ParseRecords(ReadText(wide));
      curve = eval::ThresholdCurve(truth, wide_run, thresholds);
      distances = eval::NearestDistances(truth, wide_run);
    }
    const auto calibration = eval::Calibration(truth, run, {0.0, 0.25, 0.5, 0.75, 0.9, 0.95, 1.0});
    eval::Scores scores = eval::ScoreRun(truth, run);
    if (clips_only) {
      eval::Scores clips;
      clips.clips = scores.clips;
      std::cout << eval::FormatReport(clips, {}, {});
      return 0;
    }
    std::cout << eval::FormatReport(scores, curve, calibration, distances);
  } catch (const std::exception& e) {
    std::cerr << "celtrace-evaluate: " << e.what() << '\n';
    return 1;
  }
  return 0;
}
