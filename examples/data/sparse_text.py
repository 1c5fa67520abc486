"""
=====================================
Text classification on sparse TF-IDF
=====================================

:class:`~sklearn.feature_extraction.text.TfidfVectorizer` turns documents into
a sparse CSR matrix with one column per word. :class:`~sknn.NNClassifier` takes
it as it is: the first layer multiplies the sparse rows directly, so the
documents are never densified and the matrix's memory stays proportional to
the number of words actually used.

The corpus is made up here: each document mixes words of its topic with
made-up words shared by every topic, so the topic is in the choice of words,
not in any single one.
"""

# %%
# A synthetic corpus
# ------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import ConfusionMatrixDisplay
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline

from sknn import NNClassifier

topics = {
    "sport": "match team goal season coach league player score win final cup",
    "science": "study cell energy theory data experiment research lab model physics",
    "finance": "market bank price stock rate fund growth trade budget investor tax",
    "travel": "hotel flight city beach trip tour museum island train guide visa",
}
rng = np.random.default_rng(0)
# 1000 made-up filler words shared by all topics, some much more frequent than
# others (a Zipf law, as in real text).
syllables = ["ka", "lo", "mi", "ra", "tu", "ne", "so", "pi", "da", "ve"]
shared = sorted({"".join(rng.choice(syllables, size=3)) for _ in range(3000)})[:1000]
zipf = 1 / np.arange(1, len(shared) + 1)
zipf /= zipf.sum()
docs, labels = [], []
for _ in range(2000):
    topic = rng.choice(list(topics))
    words = topics[topic].split()
    n = rng.integers(15, 40)
    own = rng.random(n) < 0.25  # a quarter of the words come from the topic
    text = list(np.where(own, rng.choice(words, n), rng.choice(shared, n, p=zipf)))
    # a few words of another topic blur the boundaries
    other = topics[rng.choice([t for t in topics if t != topic])].split()
    text += list(rng.choice(other, size=2))
    docs.append(" ".join(text))
    labels.append(topic)
print(docs[0])

docs_train, docs_test, y_train, y_test = train_test_split(
    docs, labels, stratify=labels, random_state=0
)

# %%
# TF-IDF features into the network
# --------------------------------
model = make_pipeline(
    TfidfVectorizer(),
    NNClassifier((32,), early_stopping=True, random_state=0),
).fit(docs_train, y_train)

X_train = model[0].transform(docs_train)
print(
    f"X: {type(X_train).__name__}, shape {X_train.shape}, "
    f"{X_train.nnz / np.prod(X_train.shape):.1%} non-zero"
)
print(f"test accuracy: {model.score(docs_test, y_test):.3f}")

ConfusionMatrixDisplay.from_estimator(model, docs_test, y_test, colorbar=False)
plt.title("test documents")
plt.tight_layout()
