# A Keras 2 MLP, written the way Keras 2 tutorials wrote it (keraslab's own test corpus).
import numpy as np
from tensorflow.keras.datasets import mnist
from tensorflow.keras.models import Sequential
from tensorflow.keras.layers import Dense, Dropout
from tensorflow.keras.optimizers import Adam
from tensorflow.keras.utils import np_utils
from tensorflow.keras import backend as K

(x_train, y_train), (x_test, y_test) = mnist.load_data()
x_small = K.cast_to_floatx(x_train[:512].reshape(512, 784)) / 255.0
n_classes = 1 + max(np.append(y_train, y_test))  # a NumPy integer
y_small = np_utils.to_categorical(y_train[:512], n_classes)

model = Sequential()
model.add(Dense(output_dim=32, input_dim=784, init='normal', activation='relu'))
model.add(Dropout(0.2))
model.add(Dense(n_classes, activation='softmax'))
model.compile(loss='categorical_crossentropy', optimizer=Adam(lr=0.01, decay=1e-4), metrics=['accuracy'])
history = model.fit(x_small, y_small, nb_epoch=2, batch_size=64, verbose=0)
