namespace Resilience.Uploads.Templates;

/// <summary>What one piece of a parsed template stands for.</summary>
internal enum SegmentKind
{
    Literal,
    Field,
    Id,
    Timestamp,
    Extension,
    Hash,

    /// <summary>A placeholder with an unknown name; only seen while a template is checked, never in an accepted one.</summary>
    Unknown,
}

/// <summary>One piece of a parsed template: literal text or a placeholder.</summary>
/// <param name="Kind">What the piece is.</param>
/// <param name="Text">The literal text, or the placeholder as written (e.g. <c>{student_id}</c>).</param>
/// <param name="FieldIndex">For a field, its index in the declared fields.</param>
/// <param name="Width">For a hash, the number of hex characters.</param>
internal readonly record struct TemplateSegment(SegmentKind Kind, string Text, int FieldIndex = -1, int Width = 0);
