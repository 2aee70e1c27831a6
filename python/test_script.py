"""Tests of presence.script: the script tag every integration renders."""

import unittest

from presence.script import script_tag


class ScriptTagTest(unittest.TestCase):
    def test_minimal(self):
        self.assertEqual(script_tag("https://p.example.com/", "tok"),
                         '<script src="https://p.example.com/presence.js" defer '
                         'data-url="https://p.example.com" data-token="tok"></script>')

    def test_no_token_no_tag(self):
        self.assertEqual(script_tag("https://p.example.com", "", logout_url="/logout/"), "")

    def test_everything(self):
        got = script_tag("https://p.example.com", "tok", logout_url="/out/?a=1&b=2", logout_method="POST",
                         csrf_token="c<s>rf", passive=True, confirm_unload=True,
                         attrs={"text_title": 'Say "hi"', "data-require-button": True, "css": None,
                                "transport": False})
        self.assertEqual(got, '<script src="https://p.example.com/presence.js" defer '
                              'data-url="https://p.example.com" data-token="tok" '
                              'data-logout-url="/out/?a=1&amp;b=2" data-logout-method="post" '
                              'data-csrf-token="c&lt;s&gt;rf" data-passive data-confirm-unload '
                              'data-text-title="Say &quot;hi&quot;" data-require-button></script>')

    def test_post_without_a_logout_url_reloads(self):
        got = script_tag("https://p.example.com", "tok", logout_method="post", csrf_token="x")
        self.assertNotIn("logout-method", got)
        self.assertNotIn("csrf", got)

    def test_attrs_override_the_computed_ones(self):
        self.assertIn("data-passive", script_tag("u", "tok", attrs={"passive": True}))
        self.assertNotIn("data-passive", script_tag("u", "tok", passive=True, attrs={"passive": False}))

    def test_share_socket_as_the_docs_write_it(self):
        # PRESENCE_SCRIPT_ATTRS = {"share-socket": True}, or share_socket=True in a template tag
        for attrs in ({"share-socket": True}, {"share_socket": True}):
            self.assertIn(" data-share-socket", script_tag("u", "tok", attrs=attrs))

    def test_refuses_what_would_break_the_tag(self):
        for name in ('x" onload="alert(1)', "Upper", "", "1st", "a b"):
            with self.assertRaises(ValueError, msg=name):
                script_tag("u", "tok", attrs={name: "v"})
        with self.assertRaises(ValueError):
            script_tag("u", "tok", logout_url="/out/", logout_method="put")


if __name__ == "__main__":
    unittest.main()
