"""The shared download helper's pure parts: safe file names and content types."""

from audit.downloads import content_type_for, safe_filename


def test_safe_filename_keeps_a_plain_name():
    assert safe_filename("bias-summary-7.json", fallback="x") == "bias-summary-7.json"


def test_safe_filename_drops_paths_quotes_and_control_characters():
    assert safe_filename('../../etc/pa"ss\r\nwd.txt', fallback="x") == "pa_sswd.txt"
    assert safe_filename("C:\\Users\\me\\report.pdf", fallback="x") == "report.pdf"
    assert safe_filename("...hidden", fallback="x") == "hidden"


def test_safe_filename_falls_back_when_nothing_is_left():
    assert safe_filename("", fallback="obligation-3") == "obligation-3"
    assert safe_filename("/", fallback="obligation-3") == "obligation-3"


def test_content_types_are_explicit():
    assert content_type_for("a.JSON") == "application/json"
    assert content_type_for("a.parquet") == "application/vnd.apache.parquet"
    assert content_type_for("a.exe") == "application/octet-stream"
