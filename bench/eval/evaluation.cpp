#include "evaluation.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "celtrace/csv.h"
#include "celtrace/error.h"

namespace celtrace::eval {
namespace {

bool SameEpisode(const Attribution& a, const Truth& t) {
  return a.title == t.title && a.season == t.season && a.episode == t.episode;
}

int ClassIndex(std::string_view transform) {
  const std::string_view c = TransformClass(transform);
  return c == "mild" ? 0 : c == "medium" ? 1 : 2;
}

bool IsPositiveStill(const Truth& t) { return t.kind == "still" && t.expected == "match"; }

// Negatives that are images (their records say so): the curve's false-attribution side.
bool IsNegativeStill(const Truth& t, const Record* r) {
  return t.kind == "negative" && r != nullptr && r->media == "image";
}

const Record* Find(const std::map<std::string, Record>& records, const std::string& path) {
  const auto it = records.find(path);
  return it == records.end() ? nullptr : &it->second;
}

// The best attribution within `threshold` bits (matches are best first; ties keep order).
const Attribution* TopWithin(const Record& r, int threshold) {
  const Attribution* best = nullptr;
  for (const Attribution& a : r.matches) {
    if (a.distance <= threshold && (best == nullptr || a.distance < best->distance)) best = &a;
  }
  return best;
}

double ReferenceAt(double q, double qs, double qe, double rs, double re) {
  if (qe <= qs) return rs;
  return rs + (q - qs) * (re - rs) / (qe - qs);
}

// Length of the union of intervals.
double UnionLength(std::vector<std::pair<double, double>> spans) {
  std::sort(spans.begin(), spans.end());
  double total = 0, start = 0, end = -1e300;
  for (const auto& [a, b] : spans) {
    if (a > end) {
      if (end > start) total += end - start;
      start = a;
      end = b;
    } else {
      end = std::max(end, b);
    }
  }
  if (end > start) total += end - start;
  return total;
}

std::string Percent(int part, int whole) {
  if (whole == 0) return "-";
  char text[32];
  std::snprintf(text, sizeof(text), "%.1f%%", 100.0 * part / whole);
  return text;
}

std::string Ratio(double part, double whole) {
  if (whole <= 0) return "-";
  char text[32];
  std::snprintf(text, sizeof(text), "%.3f", part / whole);
  return text;
}

}  // namespace

std::vector<Truth> ParseTruth(std::string_view csv) {
  const auto rows = ParseCsv(csv);
  if (rows.empty()) throw Error("expected.csv: empty");
  std::map<std::string, size_t> column;
  for (size_t i = 0; i < rows[0].size(); ++i) column[rows[0][i]] = i;
  const auto at = [&](const std::vector<std::string>& row, const char* name) -> const std::string& {
    const auto it = column.find(name);
    if (it == column.end()) throw Error(std::string("expected.csv: no column ") + name);
    if (it->second >= row.size()) throw Error("expected.csv: short row");
    return row[it->second];
  };
  std::vector<Truth> truth;
  for (size_t r = 1; r < rows.size(); ++r) {
    const auto& row = rows[r];
    Truth t;
    t.path = at(row, "path");
    t.kind = at(row, "kind");
    t.transform = at(row, "transform");
    t.expected = at(row, "expected");
    t.title = at(row, "title");
    t.season = std::stoi(at(row, "season"));
    t.episode = std::stoi(at(row, "episode"));
    t.ref_start = std::stod(at(row, "ref_start"));
    t.ref_end = std::stod(at(row, "ref_end"));
    t.query_start = std::stod(at(row, "query_start"));
    t.query_end = std::stod(at(row, "query_end"));
    truth.push_back(std::move(t));
  }
  return truth;
}

std::map<std::string, Record> ParseRecords(std::string_view jsonl) {
  std::map<std::string, Record> records;
  std::istringstream in{std::string(jsonl)};
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty()) continue;
    try {
      const nlohmann::json j = nlohmann::json::parse(line);
      Record r;
      r.path = j.at("path").get<std::string>();
      r.status = j.at("status").get<std::string>();
      r.media = j.value("media", "");
      for (const auto& m : j.value("matches", nlohmann::json::array())) {
        Attribution a;
        a.title = m.at("title").get<std::string>();
        a.season = m.at("season").get<int>();
        a.episode = m.at("episode").get<int>();
        a.ref_start = m.value("ref_start", 0.0);
        a.ref_end = m.value("ref_end", 0.0);
        a.query_start = m.value("query_start", 0.0);
        a.query_end = m.value("query_end", 0.0);
        a.distance = m.value("distance", 0);
        a.confidence = m.value("confidence", 0.0);
        a.channel = m.value("channel", "pdq");
        a.inliers = m.value("inliers", 0);
        a.correlation = m.value("correlation", 0.0);
        if (m.contains("chroma")) a.chroma = m.at("chroma").get<double>();
        if (m.contains("nesting")) a.nesting = m.at("nesting").get<double>();
        if (m.contains("realignment")) a.realignment = m.at("realignment").get<double>();
        if (m.contains("ink_inside")) a.ink_inside = m.at("ink_inside").get<double>();
        if (m.contains("strokes")) a.strokes = m.at("strokes").get<double>();
        a.method = m.value("method", std::string());
        if (m.contains("drawn")) a.drawn = m.at("drawn").get<double>();
        if (m.contains("framed")) a.framed = m.at("framed").get<double>();
        if (m.contains("ink_under")) a.ink_under = m.at("ink_under").get<std::int64_t>();
        if (m.contains("rival_strokes")) a.rival_strokes = m.at("rival_strokes").get<double>();
        r.matches.push_back(std::move(a));
      }
      records[r.path] = std::move(r);
    } catch (const nlohmann::json::exception& e) {
      throw Error("records line " + std::to_string(number) + ": " + e.what());
    }
  }
  return records;
}

std::map<std::string, Record> ReplayBars(const std::map<std::string, Record>& records,
                                         const AcceptanceBars& orb,
                                         const AcceptanceBars& line_art) {
  std::map<std::string, Record> out;
  for (const auto& [path, record] : records) {
    Record replayed = record;
    std::erase_if(replayed.matches, [&](const Attribution& a) {
      const KeyframeEvidence evidence{a.inliers,    a.correlation, a.chroma,     a.nesting,
                                      a.ink_inside, a.strokes,     a.realignment};
      if (a.channel == "orb") return !orb.Accepts(evidence);
      if (a.channel == "lineart" && a.method == "stroke_lookup") {
        return !line_art.AcceptsLookup(a.drawn.value_or(0), a.framed.value_or(0));
      }
      // The ink a search rests on and its rival are replayed where records carry them.
      if (a.channel == "lineart" && a.method == "stroke_search") {
        return !line_art.AcceptsSearch(a.drawn.value_or(0), a.framed.value_or(0), a.ink_under,
                                       a.rival_strokes);
      }
      if (a.channel == "lineart") return !line_art.Accepts(evidence);
      return false;
    });
    if (replayed.status == "match" && replayed.matches.empty()) replayed.status = "no_match";
    out.emplace(path, std::move(replayed));
  }
  return out;
}

std::string_view TransformClass(std::string_view t) {
  static const std::set<std::string_view> kHard = {"crop_25_offcentre", "crop_50_offcentre",
                                                   "rotate_5",          "screenshot",
                                                   "lineart",           "lineart_crop"};
  static const std::set<std::string_view> kMedium = {
      "hue",    "caption",   "mirror",    "crop_10",   "jpeg_q20", "noise",
      "aspect", "posterise", "watermark", "rotate_90", "rotate_2", "crop_25"};
  if (kHard.count(t) > 0) return "hard";
  if (kMedium.count(t) > 0) return "medium";
  return "mild";
}

Scores ScoreRun(const std::vector<Truth>& truth, const std::map<std::string, Record>& records) {
  Scores scores;
  std::map<std::string, size_t> still_at, negative_at, clip_at;
  std::map<std::string, std::vector<const Truth*>> clip_rows;  // by path, in order
  std::vector<std::string> clip_order;
  for (const Truth& t : truth) {
    const Record* r = Find(records, t.path);
    if (r == nullptr) {
      scores.missing.push_back(t.path);
      continue;
    }
    if (t.kind == "still") {
      auto [it, added] = still_at.emplace(t.transform, scores.stills.size());
      if (added) scores.stills.push_back({t.transform});
      StillScore& s = scores.stills[it->second];
      ++s.total;
      if (r->status == "match" && !r->matches.empty()) {
        const Attribution& top = r->matches.front();
        s.right_title += top.title == t.title;
        if (SameEpisode(top, t)) {
          ++s.right_episode;
          // Occurrences at the best distance are equally good (a pose that comes back in a
          // walk cycle): the time may lie in any of them.
          bool timed = false;
          for (const Attribution& a : r->matches) {
            timed = timed || (a.distance == top.distance && SameEpisode(a, t) &&
                              t.ref_start >= a.ref_start - kTimecodeTolerance &&
                              t.ref_start <= a.ref_end + kTimecodeTolerance);
          }
          s.right_timecode += timed;
        } else {
          ++s.wrong;
        }
      } else if (r->status == "no_match" || r->status == "low_information") {
        ++s.no_match;
      } else {
        ++s.errors;
      }
    } else if (t.kind == "negative") {
      const std::string key = t.transform + (r->media == "video" ? " (clip)" : "");
      auto [it, added] = negative_at.emplace(key, scores.negatives.size());
      if (added) scores.negatives.push_back({key, t.expected});
      NegativeScore& n = scores.negatives[it->second];
      ++n.total;
      n.as_expected += r->status == t.expected;
      n.false_attributions += r->status == "match";
    } else if (t.kind == "clip") {
      if (clip_rows[t.path].empty()) clip_order.push_back(t.path);
      clip_rows[t.path].push_back(&t);
    }
  }
  for (const std::string& path : clip_order) {
    const std::vector<const Truth*>& rows = clip_rows[path];
    const Record& r = *Find(records, path);
    auto [it, added] = clip_at.emplace(rows.front()->transform, scores.clips.size());
    if (added) scores.clips.push_back({rows.front()->transform});
    ClipScore& c = scores.clips[it->second];
    ++c.clips;
    for (const Truth* g : rows) c.truth_seconds += g->query_end - g->query_start;
    std::vector<std::vector<std::pair<double, double>>> found(rows.size());
    if (r.status == "match") {
      for (const Attribution& p : r.matches) {
        c.predicted_seconds += p.query_end - p.query_start;
        for (size_t i = 0; i < rows.size(); ++i) {
          const Truth& g = *rows[i];
          if (!SameEpisode(p, g)) continue;
          const double a = std::max(p.query_start, g.query_start);
          const double b = std::min(p.query_end, g.query_end);
          if (b <= a) continue;
          const double middle = (a + b) / 2;
          const double want =
              ReferenceAt(middle, g.query_start, g.query_end, g.ref_start, g.ref_end);
          const double got =
              ReferenceAt(middle, p.query_start, p.query_end, p.ref_start, p.ref_end);
          if (std::abs(want - got) > kSegmentTolerance) continue;
          c.correct_seconds += b - a;
          found[i].emplace_back(a, b);
        }
      }
    }
    for (const auto& spans : found) c.found_seconds += UnionLength(spans);
  }
  // Segments on negative clips.
  for (const Truth& t : truth) {
    const Record* r = Find(records, t.path);
    if (t.kind != "negative" || r == nullptr || r->media != "video") continue;
    auto [it, added] = clip_at.emplace("unrelated clip", scores.clips.size());
    if (added) scores.clips.push_back({"unrelated clip"});
    ++scores.clips[it->second].clips;
    if (r->status == "match") {
      scores.clips[it->second].false_segments += static_cast<int>(r->matches.size());
      for (const Attribution& p : r->matches) {
        scores.clips[it->second].predicted_seconds += p.query_end - p.query_start;
      }
    }
  }
  return scores;
}

std::vector<CurvePoint> ThresholdCurve(const std::vector<Truth>& truth,
                                       const std::map<std::string, Record>& records,
                                       const std::vector<int>& thresholds) {
  std::vector<CurvePoint> curve;
  for (const int threshold : thresholds) {
    CurvePoint p;
    p.threshold = threshold;
    for (const Truth& t : truth) {
      const Record* r = Find(records, t.path);
      if (r == nullptr) continue;
      if (IsPositiveStill(t)) {
        const int c = ClassIndex(t.transform);
        ++p.positives;
        ++p.positives_by_class[c];
        if (const Attribution* top = TopWithin(*r, threshold)) {
          if (SameEpisode(*top, t)) {
            ++p.right;
            ++p.right_by_class[c];
          } else {
            ++p.wrong_episode;
          }
        }
      } else if (IsNegativeStill(t, r)) {
        ++p.negatives;
        p.negative_attributions += TopWithin(*r, threshold) != nullptr;
      }
    }
    curve.push_back(p);
  }
  return curve;
}

std::vector<DistanceSummary> NearestDistances(const std::vector<Truth>& truth,
                                              const std::map<std::string, Record>& records) {
  std::map<std::string, std::vector<int>> values;
  std::map<std::string, int> beyond;
  const char* names[3] = {"positives, mild", "positives, medium", "positives, hard"};
  for (const Truth& t : truth) {
    const Record* r = Find(records, t.path);
    if (r == nullptr) continue;
    if (IsPositiveStill(t)) {
      const std::string set = names[ClassIndex(t.transform)];
      int best = -1;
      for (const Attribution& a : r->matches) {
        if (SameEpisode(a, t) && (best < 0 || a.distance < best)) best = a.distance;
      }
      if (best < 0) {
        ++beyond[set];
        values[set];
      } else {
        values[set].push_back(best);
      }
    } else if (IsNegativeStill(t, r) && r->status != "low_information") {
      if (r->matches.empty()) {
        ++beyond["negatives"];
        values["negatives"];
      } else {
        values["negatives"].push_back(r->matches.front().distance);
      }
    }
  }
  std::vector<DistanceSummary> out;
  for (const char* set : {names[0], names[1], names[2], "negatives"}) {
    if (values.count(set) == 0) continue;
    std::vector<int>& v = values[set];
    std::sort(v.begin(), v.end());
    DistanceSummary d;
    d.set = set;
    d.beyond = beyond[set];
    d.count = static_cast<int>(v.size()) + d.beyond;
    // Quantiles over all stills, those beyond the run's threshold sorting last.
    const auto quantile = [&](double q) {
      const auto at = static_cast<size_t>(q * (d.count - 1) + 0.5);
      return at < v.size() ? v[at] : -1;
    };
    if (d.count > 0) {
      d.min = quantile(0);
      d.p5 = quantile(0.05);
      d.median = quantile(0.5);
      d.p95 = quantile(0.95);
    }
    out.push_back(d);
  }
  return out;
}

std::vector<CalibrationBin> Calibration(const std::vector<Truth>& truth,
                                        const std::map<std::string, Record>& records,
                                        const std::vector<double>& edges) {
  std::vector<CalibrationBin> bins;
  for (size_t i = 0; i + 1 < edges.size(); ++i) bins.push_back({edges[i], edges[i + 1]});
  for (const Truth& t : truth) {
    const Record* r = Find(records, t.path);
    if (r == nullptr || r->status != "match" || r->matches.empty()) continue;
    if (!IsPositiveStill(t) && !IsNegativeStill(t, r)) continue;
    const Attribution& top = r->matches.front();
    for (CalibrationBin& bin : bins) {
      const bool last = &bin == &bins.back();
      if (top.confidence >= bin.low && (top.confidence < bin.high || last)) {
        ++bin.count;
        bin.right += IsPositiveStill(t) && SameEpisode(top, t);
        bin.mean_confidence += top.confidence;
        break;
      }
    }
  }
  for (CalibrationBin& bin : bins) {
    if (bin.count > 0) bin.mean_confidence /= bin.count;
  }
  return bins;
}

std::string FormatReport(const Scores& scores, const std::vector<CurvePoint>& curve,
                         const std::vector<CalibrationBin>& calibration,
                         const std::vector<DistanceSummary>& distances) {
  std::ostringstream out;
  char line[512];
  const auto bits = [](int value) {
    return value < 0 ? std::string("beyond") : std::to_string(value);
  };
  if (!scores.stills.empty()) {
    out << "| still transform | class | n | right title | right episode | right timecode | "
           "wrong episode | no match |\n|---|---|---|---|---|---|---|---|\n";
    int totals[3][2] = {};
    for (const StillScore& s : scores.stills) {
      std::snprintf(line, sizeof(line), "| %s | %s | %d | %s | %s | %s | %d | %d |\n",
                    s.transform.c_str(), std::string(TransformClass(s.transform)).c_str(), s.total,
                    Percent(s.right_title, s.total).c_str(),
                    Percent(s.right_episode, s.total).c_str(),
                    Percent(s.right_timecode, s.total).c_str(), s.wrong, s.no_match + s.errors);
      out << line;
      totals[ClassIndex(s.transform)][0] += s.right_episode;
      totals[ClassIndex(s.transform)][1] += s.total;
    }
    out << "\n| class | stills | right episode |\n|---|---|---|\n";
    const char* names[3] = {"mild", "medium", "hard"};
    for (int c = 0; c < 3; ++c) {
      std::snprintf(line, sizeof(line), "| %s | %d | %s |\n", names[c], totals[c][1],
                    Percent(totals[c][0], totals[c][1]).c_str());
      out << line;
    }
    out << '\n';
  }
  if (!scores.negatives.empty()) {
    out << "| negative | n | expected | as expected | false attributions |\n"
           "|---|---|---|---|---|\n";
    for (const NegativeScore& n : scores.negatives) {
      std::snprintf(line, sizeof(line), "| %s | %d | %s | %s | %d |\n", n.transform.c_str(),
                    n.total, n.expected.c_str(), Percent(n.as_expected, n.total).c_str(),
                    n.false_attributions);
      out << line;
    }
    out << '\n';
  }
  if (!scores.clips.empty()) {
    out << "| clips | n | segment precision (time) | segment recall (time) | false segments |\n"
           "|---|---|---|---|---|\n";
    for (const ClipScore& c : scores.clips) {
      std::snprintf(line, sizeof(line), "| %s | %d | %s | %s | %d |\n", c.transform.c_str(),
                    c.clips, Ratio(c.correct_seconds, c.predicted_seconds).c_str(),
                    Ratio(c.found_seconds, c.truth_seconds).c_str(), c.false_segments);
      out << line;
    }
    out << '\n';
  }
  if (!curve.empty()) {
    out << "| threshold | right episode (all) | mild | medium | hard | wrong episode | "
           "negatives attributed |\n|---|---|---|---|---|---|---|\n";
    for (const CurvePoint& p : curve) {
      std::snprintf(line, sizeof(line), "| %d | %s | %s | %s | %s | %d | %d / %d |\n", p.threshold,
                    Percent(p.right, p.positives).c_str(),
                    Percent(p.right_by_class[0], p.positives_by_class[0]).c_str(),
                    Percent(p.right_by_class[1], p.positives_by_class[1]).c_str(),
                    Percent(p.right_by_class[2], p.positives_by_class[2]).c_str(), p.wrong_episode,
                    p.negative_attributions, p.negatives);
      out << line;
    }
    out << '\n';
  }
  if (!distances.empty()) {
    out << "| nearest entry (wide run) | stills | none within the run's threshold | min | p5 | "
           "median | p95 |\n|---|---|---|---|---|---|---|\n";
    for (const DistanceSummary& d : distances) {
      std::snprintf(line, sizeof(line), "| %s | %d | %d | %s | %s | %s | %s |\n", d.set.c_str(),
                    d.count, d.beyond, bits(d.min).c_str(), bits(d.p5).c_str(),
                    bits(d.median).c_str(), bits(d.p95).c_str());
      out << line;
    }
    out << '\n';
  }
  if (!calibration.empty()) {
    out << "| confidence | attributions | right | mean confidence |\n|---|---|---|---|\n";
    for (const CalibrationBin& b : calibration) {
      std::snprintf(line, sizeof(line), "| %.2f-%.2f | %d | %s | %.3f |\n", b.low, b.high, b.count,
                    Percent(b.right, b.count).c_str(), b.mean_confidence);
      out << line;
    }
    out << '\n';
  }
  if (!scores.missing.empty()) {
    out << "missing records: " << scores.missing.size() << " (first: " << scores.missing.front()
        << ")\n";
  }
  return out.str();
}

}  // namespace celtrace::eval
