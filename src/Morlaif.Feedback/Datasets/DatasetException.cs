namespace Morlaif.Feedback.Datasets;

/// <summary>Input that cannot be used, with the file and (1-based) line it came from.</summary>
public sealed class DatasetException(string file, int line, string problem)
    : Exception(line > 0 ? $"{file}:{line}: {problem}" : $"{file}: {problem}")
{
    public string File { get; } = file;
    public int Line { get; } = line;
}
