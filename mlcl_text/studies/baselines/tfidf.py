"""The ``tfidf`` baseline: TF-IDF features and one logistic regression per label.

Word uni- and bigram TF-IDF with sublinear term frequency
(``TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2))``) and one logistic regression
per label (``OneVsRestClassifier(LogisticRegression(C=10))``), from scikit-learn. The
classic linear text classifier (Joachims, ECML 1998; Salton & Buckley, IP&M 1988 for the
weighting) that few-shot and multi-label studies keep as the bar to clear.
"""

from __future__ import annotations

from mlcl_text.studies.baselines.model import BaselineModel, one_vs_rest


class TfidfBaseline(BaselineModel):
    name = "tfidf"

    def _fit(self, texts, labels):
        from sklearn.feature_extraction.text import TfidfVectorizer

        o = self.options
        self.vectorizer = TfidfVectorizer(
            sublinear_tf=bool(o["sublinear_tf"]),
            ngram_range=tuple(o["ngram_range"]),
            min_df=o["min_df"],
            max_features=o["max_features"],
        )
        features = self.vectorizer.fit_transform(texts)
        self.classifier = one_vs_rest(o["C"], o["max_iter"], self.seed).fit(features, labels)

    def _predict(self, texts):
        return self.classifier.predict_proba(self.vectorizer.transform(texts))
