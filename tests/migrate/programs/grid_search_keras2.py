# A scikit-learn grid search over a Keras 2 build_fn (keraslab's own test corpus).
from keras.wrappers.scikit_learn import KerasClassifier
from keras.models import Sequential
from keras.layers import Dense
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV

X, y = load_digits(return_X_y=True)
X, y = X[:300] / 16.0, y[:300]


def make_model(neurons=8):
    model = Sequential()
    model.add(Dense(neurons, input_dim=64, activation='relu'))
    model.add(Dense(10, activation='softmax'))
    model.compile(loss='categorical_crossentropy', optimizer='adam', metrics=['accuracy'])
    return model


classifier = KerasClassifier(build_fn=make_model, nb_epoch=2, batch_size=32, verbose=0)
search = GridSearchCV(classifier, dict(neurons=[4, 8]), cv=2)
search.fit(X, y)
