#include "html_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "celtrace/checksum.h"
#include "celtrace/error.h"

namespace celtrace {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

// Stills list this many occurrences on the page (the JSON Lines output has them all); clip
// segments are all shown.
constexpr int kStillMatchesShown = 5;

// The page's style and script. The CSP meta tag allows exactly these two blocks by their
// SHA-256, so an injected element could neither run nor restyle anything.
constexpr std::string_view kStyle = R"css(
:root { --fg: #1d2330; --muted: #5d6677; --line: #d9dde5; --bg: #f6f7f9; --card: #fff;
        --accent: #2456a6; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif;
       color: var(--fg); background: var(--bg); }
header, section { padding: 12px 20px; }
header { background: #1d2330; color: #fff; }
header h1 { margin: 0 0 4px; font-size: 20px; }
header .meta { margin: 0; color: #c9d0dc; }
h2 { font-size: 16px; margin: 8px 0; }
table { border-collapse: collapse; background: var(--card); }
th, td { border-bottom: 1px solid var(--line); padding: 4px 8px; text-align: left;
         vertical-align: top; }
th { background: #eceff4; font-weight: 600; position: sticky; top: 0; z-index: 1; }
.overview { display: flex; gap: 24px; flex-wrap: wrap; align-items: flex-start; }
table.summary tbody tr { cursor: pointer; }
table.summary tbody tr:hover { background: #eef3fb; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
.tc { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12px;
      white-space: nowrap; }
.controls { display: flex; gap: 16px; flex-wrap: wrap; align-items: center; margin: 8px 0; }
.pager { display: flex; gap: 6px; align-items: center; margin: 8px 0; }
.pager button { font: inherit; padding: 2px 10px; }
table.rows { width: 100%; }
table.rows td.img { width: 172px; }
.thumb { display: block; width: 160px; height: 90px; object-fit: contain; background: #10131a; }
.ph { width: 160px; height: 90px; display: flex; align-items: center; justify-content: center;
      text-align: center; padding: 6px; font-size: 11px; color: var(--muted);
      background: repeating-linear-gradient(45deg, #eef0f4, #eef0f4 8px, #e4e7ed 8px,
                                            #e4e7ed 16px); border: 1px dashed #b8bfcc; }
.path { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12px;
        overflow-wrap: anywhere; max-width: 300px; }
.sub { color: var(--muted); font-size: 12px; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px;
         background: #e4e7ed; white-space: nowrap; }
.badge[data-status="match"] { background: #d6f0dc; color: #155a2a; }
.badge[data-status="no_match"] { background: #e8e4f6; color: #3e2d7a; }
.badge[data-status="low_information"] { background: #f3ecd6; color: #6b5210; }
.badge[data-status="unsupported"] { background: #e4e7ed; color: #3b4250; }
.badge[data-status="error"] { background: #f8dcdc; color: #8a1c1c; }
.err { color: #8a1c1c; font-size: 12px; overflow-wrap: anywhere; max-width: 220px; }
.score { white-space: nowrap; font-size: 12px; }
.score b { font-size: 14px; }
.score .evidence { white-space: normal; max-width: 16em; color: #555; }
.ep { font-weight: 600; }
ul.statuses { list-style: none; padding: 0; margin: 0; }
ul.statuses li { margin: 2px 0; }
svg.timeline { display: block; margin-top: 4px; }
.empty { padding: 16px; color: var(--muted); }
)css";

constexpr std::string_view kScript = R"js(
(() => {
  'use strict';
  const PAGE_SIZE = 200;
  const data = JSON.parse(document.getElementById('report-data').textContent);
  const thumbs = JSON.parse(document.getElementById('report-thumbs').textContent);
  // Row fields, then match fields (HtmlReport::Add writes them in this order).
  const PATH = 0, STATUS = 1, MEDIA = 2, SIZE = 3, QUALITY = 4, LEAK = 5, REF = 6, NOTE = 7,
        MATCHES = 8, MORE = 9, ERROR = 10, DUPLICATE = 11, SHA256 = 12, REMARK = 13;
  const EP = 0, RS = 1, RE = 2, QS = 3, QE = 4, DIST = 5, CONF = 6, ORIENT = 7, CHANNEL = 8,
        FRAMES = 9, COVERAGE = 10, TRIMMED = 11, EVIDENCE = 12;
  const MATCH = data.statuses.indexOf('match');
  // The SVG namespace, taken from an <svg> the HTML parser made, so that the page holds no
  // URL at all.
  const SVG = document.getElementById('svg-namespace').content.firstElementChild.namespaceURI;

  // Every string from the data becomes a text node; nothing is parsed as markup.
  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = String(text);
    return e;
  }
  function svg(tag, attrs) {
    const e = document.createElementNS(SVG, tag);
    for (const k in attrs) e.setAttribute(k, String(attrs[k]));
    return e;
  }
  const pad = (n, w) => String(n).padStart(w, '0');
  function tc(s) {
    const ms = Math.round(s * 1000);
    return Math.floor(ms / 3600000) + ':' + pad(Math.floor(ms / 60000) % 60, 2) + ':' +
           pad(Math.floor(ms / 1000) % 60, 2) + '.' + pad(ms % 1000, 3);
  }
  function episodeName(i) {
    const e = data.episodes[i];
    return data.titles[e[0]] + ' S' + pad(e[1], 2) + 'E' + pad(e[2], 2);
  }
  function bytes(n) {
    if (n < 1024) return n + ' B';
    if (n < 1048576) return (n / 1024).toFixed(1) + ' KiB';
    return (n / 1048576).toFixed(1) + ' MiB';
  }
  const hue = (i) => (i * 137) % 360;

  function image(index, alt, placeholder) {
    if (index < 0) return el('div', 'ph', placeholder);
    const img = el('img', 'thumb');
    img.alt = alt;
    img.decoding = 'async';
    img.src = 'data:image/jpeg;base64,' + thumbs[index];
    return img;
  }

  // Clips: the clip's time axis above, each matched episode's below, a band from each
  // segment's query range to its reference range. Stills: ticks where the frame occurs.
  function timeline(matches) {
    if (!matches.length) return null;
    const W = 220, X0 = 2, BAR = 8, GAP = 26;
    const segments = matches.some((m) => m[FRAMES] > 0);
    const episodes = [...new Set(matches.map((m) => m[EP]))];
    const length = (i) => data.episodes[i][3] ||
        Math.max(...matches.filter((m) => m[EP] === i).map((m) => m[RE])) || 1;
    const clip = Math.max(...matches.map((m) => m[QE])) || 1;
    const top = segments ? 14 : 0;
    const root = svg('svg', {class: 'timeline', width: W + 2 * X0,
                             height: top + GAP * episodes.length + 4, role: 'img'});
    const x = (t, total) => X0 + (W * Math.min(Math.max(t / total, 0), 1));
    if (segments) {
      root.append(svg('rect', {x: X0, y: 2, width: W, height: BAR, fill: '#dfe3ea'}));
    }
    episodes.forEach((e, row) => {
      const y = top + GAP * row + 12;
      const total = length(e);
      const label = svg('text', {x: X0, y: y - 3, 'font-size': 10, fill: '#5d6677'});
      label.textContent = episodeName(e);
      root.append(label, svg('rect', {x: X0, y: y, width: W, height: BAR, fill: '#dfe3ea'}));
      for (const m of matches) {
        if (m[EP] !== e) continue;
        const colour = 'hsl(' + hue(e) + ',55%,45%)';
        const r0 = x(m[RS], total), r1 = Math.max(x(m[RE], total), r0 + 2);
        const tip = svg('title', {});
        if (segments) {
          const q0 = x(m[QS], clip), q1 = Math.max(x(m[QE], clip), q0 + 2);
          const band = svg('polygon', {points: [q0, 2 + BAR, q1, 2 + BAR, r1, y, r0, y].join(' '),
                                       fill: colour, 'fill-opacity': 0.25});
          root.append(band, svg('rect', {x: q0, y: 2, width: q1 - q0, height: BAR, fill: colour}));
          tip.textContent = 'clip ' + tc(m[QS]) + '-' + tc(m[QE]) + ' = ' + episodeName(e) + ' ' +
                            tc(m[RS]) + '-' + tc(m[RE]);
        } else {
          tip.textContent = episodeName(e) + ' ' + tc(m[RS]) + '-' + tc(m[RE]);
        }
        const mark = svg('rect', {x: r0, y: y - 2, width: r1 - r0, height: BAR + 4, fill: colour});
        mark.append(tip);
        root.append(mark);
      }
    });
    return root;
  }

  function attribution(r) {
    const cell = el('td');
    const matches = r[MATCHES];
    if (r[STATUS] !== MATCH || !matches.length) return cell;
    const segments = matches.some((m) => m[FRAMES] > 0);
    // A still's further occurrences (holds, loops, recaps) on one line.
    const also = matches.slice(1).map((m) => (m[EP] === matches[0][EP] ? '' : episodeName(m[EP]) +
                                              ' ') + tc(m[RS]) + ' (' + m[DIST] + ')');
    for (const [k, m] of matches.entries()) {
      if (!segments && k > 0) break;
      const line = el('div');
      line.append(el('span', 'ep', episodeName(m[EP])), ' ',
                  el('span', 'tc', tc(m[RS]) + ' - ' + tc(m[RE])));
      const notes = [];
      if (segments) {
        notes.push('clip ' + tc(m[QS]) + ' - ' + tc(m[QE]), m[FRAMES] + ' frames',
                   'coverage ' + Math.round(m[COVERAGE] * 100) + '%');
        if (k > 0) notes.push('distance ' + m[DIST]);
      }
      if (m[ORIENT] !== 'original') notes.push(m[ORIENT]);
      if (m[TRIMMED]) notes.push('borders trimmed');
      if (notes.length) line.append(el('div', 'sub', notes.join(', ')));
      cell.append(line);
    }
    if (!segments && also.length) {
      cell.append(el('div', 'sub', 'also at ' + also.join(', ') +
                                   (r[MORE] > 0 ? ' and ' + r[MORE] + ' more' : '')));
    }
    const drawing = timeline(matches);
    if (drawing) cell.append(drawing);
    return cell;
  }

  function score(top) {
    const cell = el('td', 'score');
    if (!top) return cell;
    const line = (label, value) => {
      const div = el('div', '', label + ' ');
      div.append(el('b', '', value));
      return div;
    };
    cell.append(line('distance', top[DIST]), line('confidence', top[CONF].toFixed(2)),
                line('channel', top[CHANNEL]));
    // A clip segment's measures are medians over its frames.
    if (top[EVIDENCE]) {
      cell.append(el('div', 'evidence',
                     (top[FRAMES] > 0 ? 'medians of ' + top[FRAMES] + ' frames: ' : '') +
                         top[EVIDENCE]));
    }
    return cell;
  }

  function row(i) {
    const r = data.rows[i];
    const tr = el('tr', 'row');
    const top = r[STATUS] === MATCH && r[MATCHES].length ? r[MATCHES][0] : null;
    const leak = el('td', 'img');
    leak.append(image(r[LEAK], 'leaked image', r[ERROR] ? 'not decoded' : 'no thumbnail'));
    const ref = el('td', 'img');
    if (top) ref.append(image(r[REF], 'reference frame', data.notes[r[NOTE]]));
    const file = el('td');
    file.append(el('div', 'path', r[PATH]));
    const facts = [data.media[r[MEDIA]], bytes(r[SIZE])];
    if (r[QUALITY] >= 0) facts.push('quality ' + r[QUALITY]);
    file.append(el('div', 'sub', facts.join(' \u00b7 ')));
    if (r[SHA256]) {
      const digest = el('div', 'sub tc', 'sha256 ' + r[SHA256].slice(0, 16) + '\u2026');
      digest.title = r[SHA256];
      file.append(digest);
    }
    if (r[DUPLICATE]) file.append(el('div', 'sub', 'same content as ' + r[DUPLICATE]));
    const status = el('td');
    const badge = el('span', 'badge', data.statuses[r[STATUS]]);
    badge.dataset.status = data.statuses[r[STATUS]];
    status.append(badge);
    if (r[ERROR]) status.append(el('div', 'err', r[ERROR]));
    if (r[REMARK]) status.append(el('div', 'sub', r[REMARK]));
    tr.append(el('td', 'n', i + 1), leak, ref, file, status, attribution(r), score(top));
    return tr;
  }

  const body = document.getElementById('rows');
  const titleFilter = document.getElementById('filter-title');
  const statusFilter = document.getElementById('filter-status');
  const textFilter = document.getElementById('filter-text');
  const count = document.getElementById('count');
  let shown = [];
  let page = 0;

  function option(select, value, text) {
    const o = el('option', '', text);
    o.value = value;
    select.append(o);
  }
  option(titleFilter, 'all', 'all titles');
  data.titles.forEach((t, i) => option(titleFilter, String(i), t));
  option(titleFilter, 'none', '(no attribution)');
  const perStatus = data.statuses.map(() => 0);
  for (const r of data.rows) perStatus[r[STATUS]]++;
  option(statusFilter, 'all', 'all statuses');
  data.statuses.forEach((s, i) => option(statusFilter, String(i), s + ' (' + perStatus[i] + ')'));

  function titlesOf(r) {
    if (r[STATUS] !== MATCH) return [];
    return r[MATCHES].map((m) => data.episodes[m[EP]][0]);
  }
  function filter() {
    const title = titleFilter.value, status = statusFilter.value;
    const text = textFilter.value.toLowerCase();
    shown = [];
    data.rows.forEach((r, i) => {
      if (status !== 'all' && r[STATUS] !== Number(status)) return;
      if (title === 'none' && titlesOf(r).length) return;
      if (title !== 'all' && title !== 'none' && !titlesOf(r).includes(Number(title))) return;
      if (text && !r[PATH].toLowerCase().includes(text)) return;
      shown.push(i);
    });
    page = 0;
    render();
  }

  function pager(holder) {
    const pages = Math.max(1, Math.ceil(shown.length / PAGE_SIZE));
    const button = (text, target, disabled) => {
      const b = el('button', '', text);
      b.type = 'button';
      b.disabled = disabled;
      b.addEventListener('click', () => { page = target; render(); });
      return b;
    };
    holder.replaceChildren(
        button('\u00ab first', 0, page === 0), button('\u2039 previous', page - 1, page === 0),
        el('span', '', 'page ' + (page + 1) + ' of ' + pages),
        button('next \u203a', page + 1, page >= pages - 1),
        button('last \u00bb', pages - 1, page >= pages - 1));
  }

  function render() {
    const first = page * PAGE_SIZE;
    const last = Math.min(shown.length, first + PAGE_SIZE);
    const rows = document.createDocumentFragment();
    for (let k = first; k < last; ++k) rows.append(row(shown[k]));
    if (!shown.length) {
      const td = el('td', 'empty', 'No input matches the filters.');
      td.colSpan = 7;
      const tr = el('tr');
      tr.append(td);
      rows.append(tr);
    }
    body.replaceChildren(rows);
    count.textContent = shown.length ? 'inputs ' + (first + 1) + '-' + last + ' of ' +
        shown.length + (shown.length < data.rows.length ? ' (filtered from ' +
        data.rows.length + ')' : '') : '0 of ' + data.rows.length + ' inputs';
    pager(document.getElementById('pager-top'));
    pager(document.getElementById('pager-bottom'));
  }

  titleFilter.addEventListener('change', filter);
  statusFilter.addEventListener('change', filter);
  let typing = 0;
  textFilter.addEventListener('input', () => {
    clearTimeout(typing);
    typing = setTimeout(filter, 200);
  });
  for (const tr of document.querySelectorAll('table.summary tbody tr')) {
    tr.addEventListener('click', () => {
      titleFilter.value = tr.dataset.title;
      filter();
      document.getElementById('inputs').scrollIntoView();
    });
  }
  filter();
})();
)js";

std::string Base64(std::span<const std::uint8_t> bytes) {
  static constexpr char kDigits[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (size_t i = 0; i < bytes.size(); i += 3) {
    const size_t left = bytes.size() - i;
    const std::uint32_t group = (std::uint32_t{bytes[i]} << 16) |
                                (left > 1 ? std::uint32_t{bytes[i + 1]} << 8 : 0) |
                                (left > 2 ? std::uint32_t{bytes[i + 2]} : 0);
    out += kDigits[(group >> 18) & 63];
    out += kDigits[(group >> 12) & 63];
    out += left > 1 ? kDigits[(group >> 6) & 63] : '=';
    out += left > 2 ? kDigits[group & 63] : '=';
  }
  return out;
}

// The CSP source expression allowing exactly `block`: 'sha256-' and its base64 digest.
std::string CspHash(std::string_view block) {
  const std::string hex =
      Sha256(std::span(reinterpret_cast<const std::uint8_t*>(block.data()), block.size()));
  std::vector<std::uint8_t> digest;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    digest.push_back(static_cast<std::uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return "'sha256-" + Base64(digest) + "'";
}

// JSON inside <script type="application/json">: "<", ">" and "&" only occur inside strings,
// so replacing them with \u escapes keeps the JSON equal and means no "</script>" or
// "<!--" can end or change the element. U+2028/2029 are escaped for older parsers, DEL and
// C1 controls (U+0080-U+009F) so that the file holds no raw terminal control.
std::string ScriptSafeJson(const std::string& text) {
  std::string out;
  out.reserve(text.size() + text.size() / 16);
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '<') {
      out += "\\u003c";
    } else if (c == '>') {
      out += "\\u003e";
    } else if (c == '&') {
      out += "\\u0026";
    } else if (c == '\xE2' && i + 2 < text.size() && text[i + 1] == '\x80' &&
               (text[i + 2] == '\xA8' || text[i + 2] == '\xA9')) {
      out += text[i + 2] == '\xA8' ? "\\u2028" : "\\u2029";
      i += 2;
    } else if (c == '\x7F') {
      out += "\\u007f";
    } else if (c == '\xC2' && i + 1 < text.size() &&
               static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
               static_cast<unsigned char>(text[i + 1]) < 0xA0) {
      out += fmt::format("\\u00{:02x}", static_cast<unsigned char>(text[i + 1]));
      ++i;
    } else {
      out += c;
    }
  }
  return out;
}

double Round3(double value) { return std::round(value * 1000) / 1000; }

std::string Timecode(double seconds) {
  const auto ms = static_cast<std::int64_t>(std::llround(seconds * 1000));
  return fmt::format("{}:{:02}:{:02}.{:03}", ms / 3600000, ms / 60000 % 60, ms / 1000 % 60,
                     ms % 1000);
}

// Leak-supplied or catalogue text as valid UTF-8, and as the CSV shows it: bidirectional controls,
// which would show "rlo<U+202E>gnp.exe" as "rloexe.png", and control characters escaped; one file
// per text.
std::string Text(const std::string& text) { return EscapeForDisplay(text, nullptr); }

// What a channel match rests on, for a reviewer weighing it, as the JSON record writes it
// (three decimals): a stroke lookup's or search's strokes in common and their two shares, or
// the keypoints' RANSAC inliers and correlation (and the strokes in common where compared);
// empty for pdq, whose distance says it all, and for a method this version does not know (a
// record read back from a journal is data, not a label to show).
std::string Evidence(const MatchRecord& m) {
  if (!m.method.empty()) {
    const char* name = m.method == "stroke_lookup"   ? "stroke lookup"
                       : m.method == "stroke_search" ? "stroke search"
                                                     : nullptr;
    if (name == nullptr || !m.strokes || !m.drawn || !m.framed) return "";
    return fmt::format("{}: strokes {} (drawn {}, framed {})", name, Round3(*m.strokes),
                       Round3(*m.drawn), Round3(*m.framed));
  }
  if (m.inliers <= 0) return "";
  std::string out = fmt::format("inliers {}, correlation {}", m.inliers, Round3(m.correlation));
  if (m.strokes) out += fmt::format(", strokes {}", Round3(*m.strokes));
  return out;
}

std::string UtcNow() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buffer;
}

}  // namespace

std::string EscapeHtml(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

HtmlReport::HtmlReport(ReportContext context) : context_(std::move(context)) {
  // Statuses in the contract's order, so that filters list them alike in every report.
  for (const char* status : {"match", "no_match", "low_information", "unsupported", "error"}) {
    Intern(&statuses_, &status_index_, status);
  }
  Intern(&notes_, &note_index_, "");
}

int HtmlReport::Intern(std::vector<std::string>* table, std::unordered_map<std::string, int>* index,
                       const std::string& value) {
  const auto [it, inserted] = index->emplace(value, static_cast<int>(table->size()));
  if (inserted) table->push_back(value);
  return it->second;
}

int HtmlReport::Thumbnail(std::span<const std::uint8_t> jpeg) {
  if (jpeg.empty()) return -1;
  const auto [it, inserted] =
      thumbnail_index_.emplace(Xxh128(jpeg), static_cast<int>(thumbnails_.size()));
  if (inserted) thumbnails_.push_back(Base64(jpeg));
  return it->second;
}

int HtmlReport::EpisodeOf(const MatchRecord& match) {
  const int title = Intern(&titles_, &title_index_, Text(match.title));
  const auto key = std::make_tuple(title, match.season, match.episode);
  const auto found = episode_index_.find(key);
  if (found != episode_index_.end()) return found->second;
  double duration = 0;
  for (const EpisodeRecord& e : context_.episodes) {
    if (e.title == match.title && e.season == match.season && e.episode == match.episode) {
      duration = e.duration;
    }
  }
  episodes_.push_back({title, match.season, match.episode, duration});
  return episode_index_[key] = static_cast<int>(episodes_.size()) - 1;
}

void HtmlReport::Add(const ResultRecord& record, std::span<const std::uint8_t> leak_jpeg,
                     std::span<const std::uint8_t> reference_jpeg,
                     std::string_view reference_note) {
  const int status = Intern(&statuses_, &status_index_, Text(record.status));
  ++status_counts_[status];
  const bool matched = record.status == "match" && !record.matches.empty();
  const bool clip = matched && record.matches.front().segment;
  json matches = json::array();
  std::set<int> counted;
  int shown = 0;
  for (const MatchRecord& m : record.matches) {
    if (!clip && shown == kStillMatchesShown) break;
    ++shown;
    const int episode = EpisodeOf(m);
    // The page shows the top match's evidence only (a clip's first segment's); 0 for none
    // rather than an empty string: most matches are pdq's, and 10,000 rows add up.
    const std::string evidence = shown == 1 ? Evidence(m) : std::string();
    matches.push_back({episode, Round3(m.ref_start), Round3(m.ref_end), Round3(m.query_start),
                       Round3(m.query_end), m.distance, Round3(m.confidence), Text(m.orientation),
                       Text(m.channel), m.segment ? m.frames : 0, Round3(m.coverage),
                       m.trimmed ? 1 : 0, evidence.empty() ? json(0) : json(evidence)});
    // The summary counts a still under its best match, a clip under each segment's episode.
    if (matched && (clip || shown == 1)) {
      EpisodeSummary& summary =
          summary_.try_emplace(episode, EpisodeSummary{0, m.ref_start, m.ref_end}).first->second;
      summary.files += counted.insert(episode).second;
      summary.first = std::min(summary.first, m.ref_start);
      summary.last = std::max(summary.last, m.ref_end);
    }
  }
  const int note = matched && reference_jpeg.empty()
                       ? Intern(&notes_, &note_index_, Text(std::string(reference_note)))
                       : 0;
  // Arrays, not objects, to keep 10,000 rows compact; the script names the fields (PATH,
  // STATUS, ... SHA256, REMARK, and EP, RS, ... TRIMMED, EVIDENCE for matches) in this order.
  const json row = {Text(record.path),
                    status,
                    Intern(&media_, &media_index_, Text(record.media)),
                    record.size,
                    record.quality,
                    Thumbnail(leak_jpeg),
                    matched ? Thumbnail(reference_jpeg) : -1,
                    note,
                    std::move(matches),
                    static_cast<int>(record.matches.size()) - shown,
                    Text(record.error),
                    Text(record.duplicate_of),
                    Text(record.sha256),
                    Text(record.note)};
  rows_.push_back(row.dump());
}

std::string HtmlReport::SummaryHtml() const {
  std::string html;
  html += "<div class=\"overview\">\n<div>\n<h2>Attributions by episode</h2>\n";
  if (summary_.empty()) {
    html += "<p>No input was attributed to an episode.</p>\n";
  } else {
    html +=
        "<table class=\"summary\"><thead><tr><th>Title</th><th>Episode</th><th "
        "class=\"n\">Files</th><th>First timecode</th><th>Last timecode</th></tr></thead>\n"
        "<tbody>\n";
    // By title, season, episode.
    std::vector<std::pair<std::tuple<std::string, int, int>, int>> order;
    for (const auto& [episode, summary] : summary_) {
      const EpisodeKey& e = episodes_[episode];
      order.push_back({{titles_[e.title], e.season, e.episode}, episode});
    }
    std::sort(order.begin(), order.end());
    for (const auto& [key, episode] : order) {
      const EpisodeSummary& s = summary_.at(episode);
      const EpisodeKey& e = episodes_[episode];
      html += fmt::format(
          "<tr data-title=\"{}\"><td>{}</td><td>S{:02}E{:02}</td><td class=\"n\">{}</td>"
          "<td class=\"tc\">{}</td><td class=\"tc\">{}</td></tr>\n",
          e.title, EscapeHtml(titles_[e.title]), e.season, e.episode, s.files, Timecode(s.first),
          Timecode(s.last));
    }
    html += "</tbody></table>\n";
  }
  html += "</div>\n<div>\n<h2>Inputs by status</h2>\n<ul class=\"statuses\">\n";
  for (size_t i = 0; i < statuses_.size(); ++i) {
    const auto it = status_counts_.find(static_cast<int>(i));
    html += fmt::format("<li><span class=\"badge\" data-status=\"{0}\">{0}</span> {1}</li>\n",
                        EscapeHtml(statuses_[i]), it == status_counts_.end() ? 0 : it->second);
  }
  html += "</ul>\n</div>\n</div>\n";
  return html;
}

std::string HtmlReport::DataJson() const {
  json episodes = json::array();
  for (const EpisodeKey& e : episodes_) {
    episodes.push_back({e.title, e.season, e.episode, Round3(e.duration)});
  }
  // Rows are already JSON; splice them in rather than parse them back.
  const json head = {{"statuses", statuses_},
                     {"media", media_},
                     {"titles", titles_},
                     {"episodes", episodes},
                     {"notes", notes_}};
  std::string text = head.dump();
  text.pop_back();  // the closing brace
  text += ",\"rows\":[";
  for (size_t i = 0; i < rows_.size(); ++i) {
    if (i > 0) text += ',';
    text += rows_[i];
  }
  text += "]}";
  return ScriptSafeJson(text);
}

void HtmlReport::Write(std::ostream& out) const {
  const std::string csp = fmt::format(
      "default-src 'none'; img-src data:; style-src {}; script-src {}; base-uri 'none'; "
      "form-action 'none'",
      CspHash(kStyle), CspHash(kScript));
  std::string meta = fmt::format(
      "{} inputs &middot; index {} ({}) &middot; threshold {} bits "
      "&middot; minimum quality {}",
      rows_.size(), EscapeHtml(Text(context_.index)), EscapeHtml(context_.generation),
      context_.threshold, context_.min_quality);
  if (!context_.created.empty()) meta += " &middot; made " + EscapeHtml(context_.created);
  out << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      // The policy is ours (keywords and base64 digests: no quote, ampersand or bracket), so it
      // stays readable unescaped.
      << "<meta http-equiv=\"Content-Security-Policy\" content=\"" << csp << "\">\n"
      << "<meta name=\"referrer\" content=\"no-referrer\">\n"
      << "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      << "<title>celtrace evidence report</title>\n"
      << "<style>" << kStyle << "</style>\n</head>\n<body>\n"
      << "<header>\n<h1>celtrace evidence report</h1>\n<p class=\"meta\">" << meta
      << "</p>\n</header>\n<section id=\"summary\">\n"
      << SummaryHtml() << "</section>\n"
      << "<section id=\"inputs\">\n<h2>Inputs</h2>\n<div class=\"controls\">\n"
      << "<label>Title <select id=\"filter-title\"></select></label>\n"
      << "<label>Status <select id=\"filter-status\"></select></label>\n"
      << "<label>Path contains <input id=\"filter-text\" type=\"search\" size=\"30\"></label>\n"
      << "<span id=\"count\"></span>\n</div>\n"
      << "<div class=\"pager\" id=\"pager-top\"></div>\n"
      << "<table class=\"rows\"><thead><tr><th class=\"n\">#</th><th>Leaked</th>"
      << "<th>Reference frame</th><th>Input</th><th>Status</th><th>Attribution</th>"
      << "<th>Score</th></tr></thead>\n<tbody id=\"rows\"></tbody></table>\n"
      << "<div class=\"pager\" id=\"pager-bottom\"></div>\n"
      << "<noscript><p>The rows need JavaScript; the same records are in the JSON Lines "
         "output.</p></noscript>\n</section>\n"
      << "<template id=\"svg-namespace\"><svg></svg></template>\n"
      << "<script type=\"application/json\" id=\"report-data\">" << DataJson() << "</script>\n"
      << "<script type=\"application/json\" id=\"report-thumbs\">[";
  for (size_t i = 0; i < thumbnails_.size(); ++i) {
    out << (i > 0 ? ",\"" : "\"") << thumbnails_[i] << '"';
  }
  out << "]</script>\n<script>" << kScript << "</script>\n</body>\n</html>\n";
}

void WriteMatchReport(std::span<const ResultRecord> records,
                      const std::map<std::string, std::vector<std::uint8_t>>& leak_thumbnails,
                      const ReferenceIndex& index, const MatchOptions& options,
                      const ReportOptions& report, std::ostream& out, std::ostream& log) {
  // The reference frame of each matched record's best match, grabbed once per frame.
  std::map<std::tuple<std::string, int, int>, std::int32_t> episode_of;
  for (size_t e = 0; e < index.episodes().size(); ++e) {
    const EpisodeRecord& episode = index.episodes()[e];
    episode_of[{episode.title, episode.season, episode.episode}] = static_cast<std::int32_t>(e);
  }
  auto frame_of = [&](const ResultRecord& record) -> std::optional<ReferenceFrame> {
    if (record.status != "match" || record.matches.empty()) return std::nullopt;
    const MatchRecord& m = record.matches.front();
    const auto it = episode_of.find({m.title, m.season, m.episode});
    // Episodes removed since a resumed job matched them still get a row, with a note.
    return ReferenceFrame{it == episode_of.end() ? -1 : it->second, Round3(m.ref_start)};
  };
  std::vector<ReferenceFrame> wanted;
  for (const ResultRecord& record : records) {
    if (const auto frame = frame_of(record)) wanted.push_back(*frame);
  }
  // Each episode's own catalogue folder: an index grown with `add` from CSVs in several
  // folders resolves each episode's relative source against the folder of the CSV that
  // listed it.
  std::vector<fs::path> catalog_dirs;
  for (const EpisodeRecord& episode : index.episodes()) {
    catalog_dirs.push_back(
        index.info().CatalogDirOf(episode.title, episode.season, episode.episode));
  }
  const auto grabbed = GrabReferenceThumbnails(index.episodes(), std::move(wanted),
                                               report.footage_dir, catalog_dirs, report.thumbnails);
  int missing = 0;
  std::string reason;
  for (const auto& [frame, thumbnail] : grabbed) {
    if (!thumbnail.jpeg.empty()) continue;
    ++missing;
    if (reason.empty()) reason = thumbnail.note;
  }
  if (missing > 0) {
    log << fmt::format("celtrace-match: report: {} of {} reference frames not shown: {}\n", missing,
                       grabbed.size(), reason);
  }

  ReportContext context;
  context.index = options.index_dir.string();
  context.generation = index.info().name;
  context.created = UtcNow();
  context.threshold = options.threshold;
  context.min_quality = options.min_quality;
  context.episodes = index.episodes();
  HtmlReport page(std::move(context));
  static const std::vector<std::uint8_t> kNone;
  for (const ResultRecord& record : records) {
    const auto leak = leak_thumbnails.find(record.sha256);
    const std::vector<std::uint8_t>& leak_jpeg =
        leak == leak_thumbnails.end() ? kNone : leak->second;
    const auto frame = frame_of(record);
    const ReferenceThumbnail* reference = frame ? &grabbed.at(*frame) : nullptr;
    page.Add(record, leak_jpeg, reference ? reference->jpeg : kNone,
             reference ? reference->note : "");
  }
  page.Write(out);
}

}  // namespace celtrace
