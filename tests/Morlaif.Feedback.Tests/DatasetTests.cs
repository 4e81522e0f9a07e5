using Morlaif.Feedback.Datasets;

namespace Morlaif.Feedback.Tests;

public class DatasetTests
{
    private static string Write(params string[] lines)
    {
        var path = Path.Combine(Path.GetTempPath(), $"morlaif-data-{Guid.NewGuid():N}.jsonl");
        File.WriteAllLines(path, lines);
        return path;
    }

    [Fact]
    public void Hh_rlhf_rows_split_into_prompt_and_final_responses()
    {
        var path = Write("""{"chosen": "\n\nHuman: hi\n\nAssistant: hello\n\nHuman: capital of france?\n\nAssistant: Paris.", "rejected": "\n\nHuman: hi\n\nAssistant: hello\n\nHuman: capital of france?\n\nAssistant: Rome."}""");
        var ex = Assert.Single(PreferenceDatasets.Read(path));
        Assert.Equal("\n\nHuman: hi\n\nAssistant: hello\n\nHuman: capital of france?\n\nAssistant:", ex.Prompt);
        Assert.Equal("Paris.", ex.Chosen);
        Assert.Equal("Rome.", ex.Rejected);
    }

    [Fact]
    public void Trl_rows_read_as_strings_or_as_messages()
    {
        var path = Write(
            """{"prompt": "What is 2+2?", "chosen": "4", "rejected": "5"}""",
            "",
            """{"prompt": [{"role": "user", "content": "Hi"}], "chosen": [{"role": "assistant", "content": "Hello!"}], "rejected": [{"role": "assistant", "content": "Go away."}]}""");
        var rows = PreferenceDatasets.Read(path);
        Assert.Equal(2, rows.Count);
        Assert.Equal(("What is 2+2?", "4", "5", 1), (rows[0].Prompt, rows[0].Chosen, rows[0].Rejected, rows[0].Line));
        Assert.Equal("\n\nHuman: Hi\n\nAssistant:", rows[1].Prompt);
        Assert.Equal(("Hello!", "Go away.", 3), (rows[1].Chosen, rows[1].Rejected, rows[1].Line));
    }

    [Theory]
    [InlineData("{\"chosen\": \"x\", \"rejected\": \"y\"", ":1: malformed JSON")]
    [InlineData("""{"prompt": "p", "chosen": "x"}""", ":1: missing field 'rejected'")]
    [InlineData("""{"prompt": "p", "chosen": "same", "rejected": "same"}""", ":1: the two responses are identical")]
    [InlineData("""{"chosen": "no conversation here", "rejected": "nor here"}""", ":1: 'chosen' cannot be split")]
    [InlineData("""{"prompt": [{"role": "robot", "content": "x"}], "chosen": "a", "rejected": "b"}""", "unknown role 'robot'")]
    [InlineData("[1, 2]", ":1: expected a JSON object")]
    public void Bad_rows_are_one_error_naming_file_and_line(string row, string expected)
    {
        var path = Write("""{"prompt": "fine", "chosen": "a", "rejected": "b"}""", row);
        var e = Assert.Throws<DatasetException>(() => PreferenceDatasets.Read(path));
        Assert.StartsWith(path, e.Message);
        Assert.Contains(expected.Replace(":1:", ":2:"), e.Message);
        Assert.Equal(2, e.Line);
    }

    [Fact]
    public void An_empty_or_missing_file_is_a_clear_error()
    {
        Assert.Contains("is empty", Assert.Throws<DatasetException>(() => PreferenceDatasets.Read(Write("", "  "))).Message);
        Assert.Contains("cannot be read", Assert.Throws<DatasetException>(() => PreferenceDatasets.Read("/nonexistent/morlaif.jsonl")).Message);
    }
}

public class PromptListTests
{
    private static string Write(string extension, params string[] lines)
    {
        var path = Path.Combine(Path.GetTempPath(), $"morlaif-prompts-{Guid.NewGuid():N}{extension}");
        File.WriteAllLines(path, lines);
        return path;
    }

    [Fact]
    public void Prompts_read_from_text_lines_and_from_jsonl()
    {
        Assert.Equal([("What is 2+2?", 1), ("Name a planet.", 3)], PromptLists.Read(Write(".txt", "What is 2+2?", "", "Name a planet.")));
        var rows = PromptLists.Read(Write(".jsonl", """{"prompt": "Hi"}""", """{"prompt": [{"role": "user", "content": "Hello"}]}"""));
        Assert.Equal("Hi", rows[0].Prompt);
        Assert.Equal("\n\nHuman: Hello\n\nAssistant:", rows[1].Prompt);
    }

    [Fact]
    public void Bad_prompt_lines_name_file_and_line()
    {
        var path = Write(".jsonl", """{"prompt": "ok"}""", """{"question": "x"}""");
        var e = Assert.Throws<DatasetException>(() => PromptLists.Read(path));
        Assert.Contains(":2: missing field 'prompt'", e.Message);
        Assert.Contains("is empty", Assert.Throws<DatasetException>(() => PromptLists.Read(Write(".txt", "", " "))).Message);
    }
}
