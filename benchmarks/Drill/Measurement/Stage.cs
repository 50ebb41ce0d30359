namespace Resilience.Drill.Measurement;

/// <summary>The steps of one submission, in the order the incident's service ran them.</summary>
internal enum Stage
{
    LockAcquire,
    VectorSearch,
    PromptCache,
    AiCall,
    UploadKeys,
    ScoreApply,
    LockRelease,
    LockHold,
    Submission,
}
