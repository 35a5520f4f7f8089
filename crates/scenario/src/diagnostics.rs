//! Diagnostics: what is wrong with a scenario or catalogue file, where (`file:line:col`), and a hint,
//! rendered with the offending text underlined.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};

/// A source file the diagnostics point into.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub path: PathBuf,
    pub text: Arc<str>,
}

impl SourceFile {
    pub fn new(path: &Path, text: &str) -> SourceFile {
        SourceFile {
            path: path.to_owned(),
            text: Arc::from(text),
        }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = clamp_to_char_boundary(&self.text, offset);
        let before = &self.text[..offset];
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        (line, col)
    }
}

fn clamp_to_char_boundary(text: &str, offset: usize) -> usize {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// A second place a diagnostic refers to (e.g. the first definition of a duplicate name).
#[derive(Debug, Clone)]
pub struct Related {
    pub file: SourceFile,
    pub span: Range<usize>,
    pub label: String,
}

/// One problem in one file.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    pub file: SourceFile,
    pub span: Range<usize>,
    pub line: usize,
    pub col: usize,
    pub message: String,
    /// Printed under the underline.
    pub label: String,
    /// `help: …` (e.g. "did you mean `wait`?").
    pub hint: Option<String>,
    pub related: Option<Related>,
}

impl Diagnostic {
    pub fn new(file: &SourceFile, span: Range<usize>, message: impl Into<String>) -> Diagnostic {
        let start = clamp_to_char_boundary(&file.text, span.start);
        let end = clamp_to_char_boundary(&file.text, span.end.max(start));
        let (line, col) = file.line_col(start);
        Diagnostic {
            file: file.clone(),
            span: start..end,
            line,
            col,
            message: message.into(),
            label: String::new(),
            hint: None,
            related: None,
        }
    }

    pub fn label(mut self, label: impl Into<String>) -> Diagnostic {
        self.label = label.into();
        self
    }

    pub fn hint(mut self, hint: Option<String>) -> Diagnostic {
        self.hint = hint;
        self
    }

    pub fn related(mut self, related: Related) -> Diagnostic {
        self.related = Some(related);
        self
    }

    /// The file the diagnostic points into, as given to the parser.
    pub fn path(&self) -> &Path {
        &self.file.path
    }

    /// `path:line:col`.
    pub fn location(&self) -> String {
        format!(
            "{}:{}:{}",
            display_path(&self.file.path),
            self.line,
            self.col
        )
    }

    /// Renders only where it points (`--> file:line:col`, the text underlined, the hint), for callers
    /// that have printed the message already.
    pub fn render_snippet(&self, styled: bool) -> String {
        let path = display_path(&self.file.path);
        let snippet = Snippet::source(&*self.file.text)
            .line_start(1)
            .path(path)
            .fold(true)
            .annotation(
                AnnotationKind::Primary
                    .span(self.span.clone())
                    .label(&*self.label),
            );
        let mut groups = vec![Group::with_level(Level::ERROR).element(snippet)];
        if let Some(hint) = &self.hint {
            groups.push(Group::with_title(Level::HELP.secondary_title(&**hint)));
        }
        renderer(styled).render(&groups).to_string()
    }

    /// Renders with annotate-snippets, in colour when `styled`.
    pub fn render(&self, styled: bool) -> String {
        let path = display_path(&self.file.path);
        let mut snippet = Snippet::source(&*self.file.text)
            .line_start(1)
            .path(path.clone())
            .fold(true)
            .annotation(
                AnnotationKind::Primary
                    .span(self.span.clone())
                    .label(&*self.label),
            );
        let related_path;
        let mut groups = Vec::new();
        if let Some(related) = &self.related {
            if related.file.path == self.file.path {
                snippet = snippet.annotation(
                    AnnotationKind::Context
                        .span(related.span.clone())
                        .label(&*related.label),
                );
                groups.push(Level::ERROR.primary_title(&*self.message).element(snippet));
            } else {
                related_path = display_path(&related.file.path);
                groups.push(
                    Level::ERROR
                        .primary_title(&*self.message)
                        .element(snippet)
                        .element(
                            Snippet::source(&*related.file.text)
                                .line_start(1)
                                .path(related_path.clone())
                                .fold(true)
                                .annotation(
                                    AnnotationKind::Context
                                        .span(related.span.clone())
                                        .label(&*related.label),
                                ),
                        ),
                );
            }
        } else {
            groups.push(Level::ERROR.primary_title(&*self.message).element(snippet));
        }
        if let Some(hint) = &self.hint {
            groups.push(Group::with_title(Level::HELP.secondary_title(&**hint)));
        }
        renderer(styled).render(&groups).to_string()
    }
}

fn renderer(styled: bool) -> Renderer {
    if styled {
        Renderer::styled()
    } else {
        Renderer::plain()
    }
}

fn display_path(path: &Path) -> String {
    path.display().to_string()
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(false))
    }
}

/// Every problem found, across files. Displays as every diagnostic rendered without colour, then a count.
#[derive(Debug, Clone, Default, thiserror::Error)]
#[error("{}", self.render(false))]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn iter(&self) -> std::slice::Iter<'_, Diagnostic> {
        self.0.iter()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.0.push(diagnostic);
    }

    /// Orders the diagnostics of one file by where they point (stable: equal positions keep their order).
    pub fn sort_by_position(&mut self) {
        self.0.sort_by_key(|diagnostic| diagnostic.span.start);
    }

    pub fn extend(&mut self, other: Diagnostics) {
        self.0.extend(other.0);
    }

    /// All diagnostics, rendered, followed by a count.
    pub fn render(&self, styled: bool) -> String {
        let mut out = String::new();
        for diagnostic in &self.0 {
            out.push_str(&diagnostic.render(styled));
            out.push_str("\n\n");
        }
        let count = self.0.len();
        out.push_str(&format!(
            "{count} error{} in scenario files",
            if count == 1 { "" } else { "s" }
        ));
        out
    }
}

impl IntoIterator for Diagnostics {
    type Item = Diagnostic;
    type IntoIter = std::vec::IntoIter<Diagnostic>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

/// "did you mean `x`?" when `word` is close to one of `candidates`.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    let best = candidates
        .into_iter()
        .map(|candidate| (strsim::jaro_winkler(word, candidate), candidate))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))?;
    Some(format!("did you mean `{}`?", best.1))
}

/// "did you mean `x`?" or, failing that, the list of what is allowed.
pub fn suggest(word: &str, candidates: &[&str]) -> String {
    did_you_mean(word, candidates.iter().copied()).unwrap_or_else(|| {
        let list: Vec<String> = candidates.iter().map(|c| format!("`{c}`")).collect();
        format!("expected one of {}", list.join(", "))
    })
}
