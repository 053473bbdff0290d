// A small man(7) writer: escaping and the handful of macros the project's
// pages use (.TH .SH .SS .PP .TP .RS/.RE .nf/.fi). Text goes in as plain
// UTF-8 and comes out as roff that `groff -ww -man` reads without a warning.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace pib::gendocs {

/// Plain text for a roff text line: backslashes, non-ASCII characters, and a
/// `.` or `'` that would start a request are escaped; newlines kept.
std::string roff_text(std::string_view text);
/// A command-line token (option name, path, value): as roff_text, and every
/// `-` is a real minus (`\-`), so that it can be searched for and copied.
std::string roff_code(std::string_view text);
/// As roff_text, and `code` spans (Markdown backticks, as the key tables and
/// help texts write them) in bold without the backticks.
std::string roff_prose(std::string_view text);
/// `text` in bold / italic, escaped as code, font restored after.
std::string bold(std::string_view text);
std::string italic(std::string_view text);

/// One man page, written top to bottom.
class ManPage {
  public:
    /// `.TH NAME SECTION "" SOURCE MANUAL`; no date, so that the page only
    /// changes when its content does.
    ManPage(std::string_view name, int section, std::string_view source, std::string_view manual);

    /// `.SH TITLE`.
    void section(std::string_view title);
    /// `.SS title` (the title as plain text).
    void subsection(std::string_view title);
    /// `.PP` and the paragraph, as plain text.
    void para(std::string_view text);
    /// `.PP` and a paragraph already in roff (made with bold(), italic(), roff_text()).
    void para_roff(std::string_view roff);
    /// `.TP`: a tag line in roff, then the body as plain text.
    void tagged(std::string_view tag_roff, std::string_view text);
    /// `.TP`: a tag line and a body, both already in roff.
    void tagged_roff(std::string_view tag_roff, std::string_view body_roff);
    /// An indented literal block (a file, commands), lines kept as they are.
    void literal(std::string_view text);
    /// A line of roff as it is (`.br`, a synopsis line).
    void raw(std::string_view roff);

    /// The page's text.
    const std::string& str() const { return out_; }

  private:
    void line(std::string_view roff);
    std::string out_;
};

}  // namespace pib::gendocs
